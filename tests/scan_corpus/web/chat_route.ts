import Anthropic from "@anthropic-ai/sdk";
import type { Request, Response } from "express";

const anthropic = new Anthropic();

export async function chat(req: Request, res: Response) {
  const message = await anthropic.messages.create({
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: req.body.messages,
  });
  res.json(message);
}
