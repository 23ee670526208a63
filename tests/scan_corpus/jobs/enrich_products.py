"""Nightly: write a marketing blurb for every product that lacks one."""
import anthropic

from shop.db import connect

client = anthropic.Anthropic()


def main():
    db = connect()
    products = db.fetch_all("SELECT id, name, specs FROM products WHERE blurb IS NULL")
    for product in products:
        reply = client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=300,
            messages=[{"role": "user", "content": f"Write a two-sentence blurb for {product.name}: {product.specs}"}],
        )
        db.execute("UPDATE products SET blurb = %s WHERE id = %s", (reply.content[0].text, product.id))


if __name__ == "__main__":
    main()
