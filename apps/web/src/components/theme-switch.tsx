"use client";
// The header's theme switch: dark (the trading default) or light, remembered in a cookie.
import { applyTheme, useThemeName } from "../hooks/use-theme";
import { Button } from "./ui/button";

export function ThemeSwitch() {
  const theme = useThemeName();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <Button
      variant="ghost"
      size="sm"
      aria-label={`Switch to the ${next} theme`}
      title={`Switch to the ${next} theme`}
      onClick={() => applyTheme(next)}
      data-testid="theme-switch"
    >
      {theme === "dark" ? "☀ Light" : "☾ Dark"}
    </Button>
  );
}
