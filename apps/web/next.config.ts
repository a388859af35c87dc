import type { NextConfig } from "next";

const config: NextConfig = {
  // Our workspace packages ship TypeScript source; Next compiles them with the app.
  transpilePackages: ["@spotx/api", "@spotx/db", "@spotx/engine", "@spotx/platform"],
  // Server libraries with native bindings, dynamic requires or .proto files stay in
  // node_modules and are loaded at run time rather than bundled.
  serverExternalPackages: [
    "pg",
    "ioredis",
    "kafkajs",
    "etcd3",
    "@grpc/grpc-js",
    "@grpc/proto-loader",
    "pino",
    "prom-client",
  ],
  poweredByHeader: false,
  // forbidden() and forbidden.tsx: the console answers a signed-in trader 403.
  experimental: { authInterrupts: true },
  reactStrictMode: true,
};

export default config;
