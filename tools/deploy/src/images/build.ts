// Builds spotx-worker, spotx-market-maker and spotx-web from deploy/images/Containerfile on the
// Debian base, as a user would with the default node:20-bookworm-slim. The web image last, while
// holding the lock every web build on this machine takes (its `next build` competes with them);
// by then the shared stages (the install, the source) are cached from the other two.
import fs from "node:fs";
import { BASE_IMAGE } from "./base-image";
import { containerfile, repoRoot, runLogged } from "./podman";

export const IMAGES = [
  { target: "worker", name: "spotx-worker" },
  { target: "market-maker", name: "spotx-market-maker" },
  { target: "web", name: "spotx-web" },
] as const;

export type ImageName = (typeof IMAGES)[number]["name"];

/**
 * A CA bundle this machine's npm trusts beyond the public ones (a TLS-inspecting proxy in front
 * of the registry), mounted into the build at the same path for the installs' NODE_EXTRA_CA_CERTS.
 */
function extraCaArgs(): string[] {
  const bundle = process.env.NODE_EXTRA_CA_CERTS;
  if (!bundle || !fs.existsSync(bundle)) return [];
  return ["--volume", `${bundle}:${bundle}:ro`, "--build-arg", `NODE_EXTRA_CA_CERTS=${bundle}`];
}

export async function buildImage(image: (typeof IMAGES)[number]): Promise<void> {
  const build = [
    "podman",
    "build",
    // The installs reach the npm registry through the host's network.
    "--network",
    "host",
    "--file",
    containerfile,
    "--target",
    image.target,
    "--tag",
    image.name,
    "--build-arg",
    `BASE_IMAGE=${BASE_IMAGE}`,
    ...extraCaArgs(),
    repoRoot,
  ];
  await runLogged(`images-build-${image.target}`, "podman", build.slice(1));
}
