// Where to go after signing in: only a path of this site ("/trade/BTC_USDT"), never another
// origin ("//evil.example", "https://…"), so a crafted link cannot send a trader elsewhere.
export function nextPath(value: string | string[] | undefined, fallback = "/"): string {
  const text = (Array.isArray(value) ? value[0] : value) ?? "";
  if (!text.startsWith("/") || text.startsWith("//") || text.includes("\\")) return fallback;
  return text;
}
