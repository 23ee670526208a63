import anthropic

client = anthropic.Anthropic()
INVOICE_TOOL = {
    "name": "record_invoice",
    "description": "Record the invoice fields.",
    "input_schema": {"type": "object", "properties": {"total": {"type": "number"}, "vendor": {"type": "string"}}},
}


def extract_invoices(pdfs_text, sink):
    for doc_id, text in pdfs_text.items():
        response = client.messages.create(
            model="claude-haiku-4-5", max_tokens=500, tools=[INVOICE_TOOL],
            tool_choice={"type": "tool", "name": "record_invoice"},
            messages=[{"role": "user", "content": text}])
        for block in response.content:
            if block.type == "tool_use":
                sink.write(doc_id, block.input)
