/** Reads a duration: "5s", "250ms", "1m" or a number of seconds; milliseconds. */
export function parseDuration(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value === "") return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) {
    throw new Error(`${name}=${JSON.stringify(value)} is not a duration (e.g. 5s or 500ms)`);
  }
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  return unit === "ms" ? n : unit === "m" ? n * 60_000 : n * 1000;
}
