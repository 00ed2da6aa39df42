import { signDuis } from "@smartdcc/duis-sign-wrap";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";

/**
 * The real DCC Boxed client signing tool (the Java jar shipped in
 * @smartdcc/duis-sign-wrap), used as the judge of boxd's DUIS.
 */
const JAR = join(dirname(require.resolve("@smartdcc/duis-sign-wrap")), "tool.jar");

export const TEMPLATES = join(import.meta.dir, "..", "vectors", "duis", "templates");
export const ZAZ1 = join(import.meta.dir, "..", "..", "provisioning", "trust", "zaz1");

/** The certificate of DCC Boxed 25.11's DSP signing serial, which the jar does not bundle. */
export const DSP_CERTIFICATE = join(ZAZ1, "Z1-accessControlBroker-dSPXmlSign.pem");

export function readTemplate(name: string): string {
  return readFileSync(join(TEMPLATES, name), "utf8");
}

/** Signs with the originator's ZAZ1 key; the counter becomes the signing time in ms unless preserved. */
export function sign(xml: string, preserveCounter = false): Promise<string> {
  return signDuis({ xml, preserveCounter });
}

/** Result of the jar's Validate: exit code, the canonical unsigned XML on stdout, and its messages. */
export interface Validation {
  exitCode: number;
  xml: string;
  messages: string;
}

/** Runs the jar's Validate on `xml`, naming the signer certificate explicitly when given. */
export async function validate(xml: string, certificatePath?: string): Promise<Validation> {
  const args = ["java", "-cp", JAR, "uk.co.smartdcc.boxed.xmldsig.Validate", "-"];
  if (certificatePath) args.push(certificatePath);
  const child = Bun.spawn(args, { stdin: new TextEncoder().encode(xml), stdout: "pipe", stderr: "pipe" });
  const [out, err, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, xml: out, messages: err };
}

/** Runs the jar's Sign with an explicit certificate and key, as for a user the jar does not know. */
export async function signWith(xml: string, certificatePath: string, keyPath: string): Promise<string> {
  const child = Bun.spawn(["java", "-cp", JAR, "uk.co.smartdcc.boxed.xmldsig.Sign", "-", certificatePath, keyPath], {
    stdin: new TextEncoder().encode(xml),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (exitCode !== 0) throw new Error(`Sign exited ${exitCode}: ${err}`);
  return out;
}
