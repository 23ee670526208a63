import boto3

bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
MODEL_ID = "anthropic.claude-3-5-haiku-20241022-v1:0"


def caption_all(s3_keys, table):
    for key in s3_keys:
        response = bedrock.converse(
            modelId=MODEL_ID,
            messages=[{"role": "user", "content": [{"text": f"Write a caption for the file {key}"}]}],
        )
        table.put_item(Item={"key": key, "caption": response["output"]["message"]["content"][0]["text"]})
