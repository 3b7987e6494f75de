// The delivery that webhook_check.py received, verified with the Standard Webhooks
// reference library for JavaScript (npm `standardwebhooks`). Usage: node webhook_check.mjs FILE
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.VOV_NODE_TOOLS + "/");
const { Webhook } = require("standardwebhooks");
const { secret, body, headers } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const event = new Webhook(secret).verify(body, headers);
if (event.type !== "organisation.update") throw new Error(`unexpected event ${JSON.stringify(event)}`);
let forged = false;
try {
  new Webhook(secret).verify(body.replace("webhook-check", "webhook-forged"), headers);
  forged = true;
} catch {}
if (forged) throw new Error("a tampered body verified");
console.log(`standardwebhooks (Node.js): the delivery ${headers["webhook-id"]} verifies, a tampered copy does not`);
