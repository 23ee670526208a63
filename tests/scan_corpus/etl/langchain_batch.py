from langchain_anthropic import ChatAnthropic
from langchain_core.prompts import ChatPromptTemplate

llm = ChatAnthropic(model="claude-haiku-4-5", max_tokens=256)
prompt = ChatPromptTemplate.from_template("Write a one-line product description for {name}.")


def describe_all(names):
    chain = prompt | llm
    return llm.batch([prompt.format(name=n) for n in names], config={"max_concurrency": 8})
