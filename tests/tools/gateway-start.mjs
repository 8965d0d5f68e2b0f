// The gateway image's command (tests/tools/gateway-image.sh): seeds
// OpenClaw's state database with what `openclaw plugins install` recorded
// when the image was built, then starts the gateway.
//
// OpenClaw 2026.9.6 gives an external plugin's channel its trusted features
// (its keyed state store, which the Matrix channel needs) only when the
// state database holds the plugin's install record: installed from its
// official npm package, at the path it loads from. privai's compose file
// mounts an empty tmpfs over the state directory, so the record made at
// build time (in SEED/state/openclaw.sqlite, the plugin itself under
// SEED/npm) is copied into each fresh state directory; a state directory
// that already has a database keeps it.
import { chmodSync, copyFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";

const SEED = "/usr/local/lib/openclaw-seed/state/openclaw.sqlite";
const state = process.env.OPENCLAW_STATE_DIR || path.join(process.env.HOME || "/home/node", ".openclaw");
const database = path.join(state, "state", "openclaw.sqlite");
// The image always carries the seed: a failure to read it is loud.
if (!existsSync(database)) {
  mkdirSync(path.dirname(database), { recursive: true, mode: 0o700 });
  copyFileSync(SEED, database);
  chmodSync(database, 0o600);
}
process.argv = [process.argv[0], "/app/openclaw.mjs", "gateway", ...process.argv.slice(2)];
await import("/app/openclaw.mjs");
