// The base the test builds the images on, made from Debian packages alone (no registry is
// reachable to pull node:20-bookworm-slim from): a minimal Debian trixie, whose nodejs is 20.19
// (bookworm's 18 is too old), with npm for the build stages. debootstrap's own resolver cannot
// follow npm's dependencies (alternatives and virtual packages), so npm comes from apt-get in
// the new root. The root is cached as a tarball under .cache/images/ and imported once.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { imagesCacheDir, podman, runLogged } from "./podman";

export const BASE_IMAGE = "localhost/spotx-base:trixie";

const recipe = {
  suite: "trixie",
  mirror: "http://deb.debian.org/debian",
  debootstrap: ["--variant=minbase", "--include=nodejs,ca-certificates"],
  apt: ["npm"],
};
/** Names the tarball and labels the image: a changed recipe makes a new base. */
const recipeDigest = createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 12);
const LABEL = "dev.spotx.base-recipe";

export const baseTarball = path.join(imagesCacheDir, `base-${recipe.suite}-${recipeDigest}.tar`);

/** Builds the root filesystem into the cached tarball, unless it is there already. */
async function ensureTarball(print: (line: string) => void): Promise<void> {
  if (fs.existsSync(baseTarball)) {
    print(`  base root filesystem cached: ${path.relative(process.cwd(), baseTarball)}`);
    return;
  }
  const root = path.join(imagesCacheDir, "rootfs.partial");
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  try {
    // A debootstrap older than the suite has no script for it; trixie is built like sid.
    const script = `/usr/share/debootstrap/scripts/${recipe.suite}`;
    const scriptArg = fs.existsSync(script) ? [] : ["/usr/share/debootstrap/scripts/sid"];
    print(`  debootstrap ${recipe.suite} (${recipe.debootstrap.join(" ")})…`);
    await runLogged("images-debootstrap", "debootstrap", [
      ...recipe.debootstrap,
      recipe.suite,
      root,
      recipe.mirror,
      ...scriptArg,
    ]);
    print(`  apt-get install ${recipe.apt.join(" ")} in the new root…`);
    await runLogged("images-base-apt", "chroot", [
      root,
      "sh",
      "-c",
      `apt-get update -q && apt-get install -y -q --no-install-recommends ${recipe.apt.join(" ")} && apt-get clean && rm -rf /var/lib/apt/lists/*`,
    ]);
    const partial = `${baseTarball}.partial`;
    await runLogged("images-base-tar", "tar", ["--numeric-owner", "-C", root, "-cf", partial, "."]);
    fs.renameSync(partial, baseTarball);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** `localhost/spotx-base:trixie`, imported from the tarball when missing or from another recipe. */
export async function ensureBaseImage(print: (line: string) => void): Promise<void> {
  const current = await podman([
    "image",
    "inspect",
    "--format",
    `{{index .Labels "${LABEL}"}}`,
    BASE_IMAGE,
  ]).catch(() => "");
  if (current.trim() === recipeDigest) {
    print(`  ${BASE_IMAGE} present (recipe ${recipeDigest})`);
    return;
  }
  await ensureTarball(print);
  await podman(["import", "--change", `LABEL ${LABEL}=${recipeDigest}`, baseTarball, BASE_IMAGE], {
    timeoutMs: 600_000,
  });
  print(`  ${BASE_IMAGE} imported from ${path.relative(process.cwd(), baseTarball)}`);
}
