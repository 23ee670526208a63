# %% [markdown]
# Sentiment of every review in the export, with Claude

# %%
import anthropic
import pandas as pd

client = anthropic.Anthropic()
reviews = pd.read_parquet("reviews.parquet")


# %%
def sentiment(text):
    r = client.messages.create(model="claude-3-haiku-20240307", max_tokens=3,
                               messages=[{"role": "user", "content": f"positive, negative or neutral?\n{text}"}])
    return r.content[0].text


reviews["sentiment"] = reviews["text"].apply(sentiment)
reviews.to_parquet("reviews_scored.parquet")
