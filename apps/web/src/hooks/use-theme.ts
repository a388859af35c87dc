"use client";
// The page's theme ("dark" or "light"), as the root element's data-theme says: the theme
// switch changes it, and charts (which draw on canvas, outside CSS) follow it through this hook.
import { useEffect, useState } from "react";

export type ThemeName = "dark" | "light";

/** The theme cookie the root layout reads, so the server renders the chosen theme. */
export const THEME_COOKIE = "spotx_theme";

const current = (): ThemeName =>
  typeof document !== "undefined" && document.documentElement.dataset.theme === "light"
    ? "light"
    : "dark";

export function useThemeName(): ThemeName {
  const [theme, setTheme] = useState<ThemeName>("dark");
  useEffect(() => {
    setTheme(current());
    const observer = new MutationObserver(() => setTheme(current()));
    observer.observe(document.documentElement, {
      attributes: true,
      attributeFilter: ["data-theme"],
    });
    return () => observer.disconnect();
  }, []);
  return theme;
}

/** Switches the theme now and remembers it for a year. */
export function applyTheme(theme: ThemeName) {
  document.documentElement.dataset.theme = theme;
  // biome-ignore lint/suspicious/noDocumentCookie: a plain preference cookie, read by the server render
  document.cookie = `${THEME_COOKIE}=${theme}; path=/; max-age=31536000; samesite=lax`;
}

/** A CSS custom property of the current theme (charts take colours as strings). */
export function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
