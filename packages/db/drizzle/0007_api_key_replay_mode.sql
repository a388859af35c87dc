CREATE TYPE "public"."api_key_replay_mode" AS ENUM('gate', 'strict');--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "replay_mode" "api_key_replay_mode" DEFAULT 'gate' NOT NULL;