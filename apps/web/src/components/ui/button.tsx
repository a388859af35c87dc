// Button: the kit's one button. `variant` says what it does (primary action, buy, sell,
// danger, quiet ghost, or the neutral default); `size` sm/md/lg; `block` fills the width.
// Everything else is a plain <button>'s props (type defaults to "button", not "submit").
import type { ButtonHTMLAttributes } from "react";

export type ButtonVariant = "default" | "primary" | "buy" | "sell" | "danger" | "ghost";

export type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: ButtonVariant;
  size?: "sm" | "md" | "lg";
  block?: boolean;
};

export function Button({
  variant = "default",
  size = "md",
  block = false,
  className,
  type = "button",
  ...props
}: ButtonProps) {
  const classes = [
    "btn",
    variant === "default" ? "" : `btn-${variant}`,
    size === "md" ? "" : `btn-${size}`,
    block ? "btn-block" : "",
    className ?? "",
  ]
    .filter(Boolean)
    .join(" ");
  return <button type={type} className={classes} {...props} />;
}
