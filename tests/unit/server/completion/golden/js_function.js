import { readFile } from "node:fs/promises";
const path = require("path");

/** Count the lines of a text file. */
export async function countLines(file) {
  const text = await readFile(path.resolve(file), "utf8");
  <|cursor|>
}
