"""The fake Anthropic API answers the real SDK as the documented API does."""

import anthropic
import pytest

from tests.fake_anthropic import FakeAnthropic


def request(custom_id, **params):
    return {
        "custom_id": custom_id,
        "params": {"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": custom_id}], **params},
    }


@pytest.fixture
def fake():
    with FakeAnthropic() as server:
        yield server


def test_a_batch_is_in_progress_then_ends_with_every_result_type_in_any_order(fake):
    client = fake.client()
    names = [f"r{n}" for n in range(40)]
    fake.outcomes = {"r1": ["invalid_request_error"], "r2": ["canceled"], "r3": ["expired"]}
    created = client.messages.batches.create(requests=[request(name) for name in names])
    assert created.processing_status == "in_progress" and created.request_counts.processing == 40
    assert created.results_url is None and (created.expires_at - created.created_at).total_seconds() == 24 * 3600

    assert client.messages.batches.retrieve(created.id).processing_status == "in_progress"
    ended = client.messages.batches.retrieve(created.id)
    assert ended.processing_status == "ended"
    assert ended.request_counts.to_dict() == {
        "processing": 0,
        "succeeded": 37,
        "errored": 1,
        "canceled": 1,
        "expired": 1,
    }
    assert ended.results_url == f"{fake.base_url}/v1/messages/batches/{created.id}/results"

    results = client.messages.batches.results(created.id)
    try:
        lines = {line.custom_id: line.result for line in results}
    finally:
        results.close()
    assert set(lines) == set(names) and list(lines) != names  # every request once, not in request order
    assert lines["r0"].message.usage.service_tier == "batch" and lines["r0"].message.content[0].text.startswith("ok")
    assert lines["r1"].error.error.type == "invalid_request_error"
    assert (lines["r2"].type, lines["r3"].type) == ("canceled", "expired")


@pytest.mark.parametrize(
    "requests, message",
    [
        ([request("has space")], "requests.0.custom_id: invalid 'has space'"),
        ([request("same"), request("same")], "requests.1.custom_id: duplicate 'same'"),
        ([request("x", stream=True)], "requests.0.params.stream"),
        ([request("x", max_tokens=0)], "requests.0.params.max_tokens"),
    ],
)
def test_invalid_batches_are_400(fake, requests, message):
    with pytest.raises(anthropic.BadRequestError, match=message):
        fake.client().messages.batches.create(requests=requests)
    assert not fake.batches


def test_a_batch_over_the_size_limit_is_413(fake):
    fake.max_batch_bytes = 500
    with pytest.raises(anthropic.ContentTooLargeError):
        fake.client().messages.batches.create(requests=[request(f"r{n}") for n in range(10)])
    with pytest.raises(anthropic.ContentTooLargeError):  # a body of more than one read of 1 MiB is drained too
        fake.client(timeout=10).messages.batches.create(requests=[request("big", system="x" * 1_500_000)])
    assert not fake.batches and fake.calls["create too large"] == 2


def test_scripted_bursts_fail_then_the_route_answers_again(fake):
    client = fake.client()
    fake.fail("create", 429, times=2, headers={"retry-after": "3"}, error_type="rate_limit_error")
    for _ in range(2):
        with pytest.raises(anthropic.RateLimitError) as limited:
            client.messages.batches.create(requests=[request("a")])
        assert limited.value.response.headers["retry-after"] == "3"
    fake.fail("create", 529, error_type="overloaded_error")
    with pytest.raises(anthropic.OverloadedError):
        client.messages.batches.create(requests=[request("a")])
    assert client.messages.batches.create(requests=[request("a")]).id in fake.batches


def test_an_accepted_create_can_lose_its_answer(fake):
    fake.fail("create", after_handling=True)
    with pytest.raises(anthropic.APIConnectionError):
        fake.client().messages.batches.create(requests=[request("a")])
    assert len(fake.batches) == 1


def test_a_results_stream_can_break_half_way(fake):
    client = fake.client()
    created = client.messages.batches.create(requests=[request(f"r{n}") for n in range(5)])
    fake.end_all()
    fake.fail("results", cut_after_lines=2)
    with client.messages.batches.with_streaming_response.results(created.id) as response:
        with pytest.raises(Exception, match="peer closed connection"):
            list(response.iter_lines())


def test_list_pages_newest_first(fake):
    client = fake.client()
    ids = [client.messages.batches.create(requests=[request("a")]).id for _ in range(5)]
    assert [batch.id for batch in client.messages.batches.list(limit=2)] == ids[::-1]


def test_the_messages_api_answers_with_the_scripted_reply(fake):
    fake.reply = lambda params: "hello " + params["messages"][0]["content"]
    message = fake.client().messages.create(**request("there")["params"])
    assert message.content[0].text == "hello there" and message.usage.service_tier == "standard"
    assert fake.received == [request("there")["params"]]
    fake.reply = lambda params: [{"type": "tool_use", "id": "toolu_1", "name": "answer", "input": {"q1": "no"}}]
    assert fake.client().messages.create(**request("again")["params"]).content[0].input == {"q1": "no"}
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        fake.client().messages.create(model="m", max_tokens=0, messages=[])
