import Anthropic from "@anthropic-ai/sdk";
import { listImagesWithoutAlt, saveAlt } from "./db";

const client = new Anthropic();

export async function run(): Promise<void> {
  const images = await listImagesWithoutAlt();
  for (const image of images) {
    const reply = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: `Alt text for ${image.url}` }],
    });
    await saveAlt(image.id, reply.content);
  }
}
