/**
 * Runs one install or one start in its own process and kills itself with
 * SIGKILL at the point named by BOXD_CRASH_AT, to simulate a power cut:
 * - `download:<percent>`: once that share of the image is on disk;
 * - an install step (`download-verified`, `slot-cleared`, `image-moved`,
 *   `slot-recorded`, `switched`): right after its effect is on disk;
 * - `after-start`: after resolveBootSlot(), before markHealthy().
 * Environment: BOXD_STATE_DIR, BOXD_TARGET (JSON of the target), BOXD_MODE
 * (`install` or `start`).
 */
import { setLogLevel } from "../../daemon/log.ts";
import { installUpdate } from "../../update/install/install.ts";
import { resolveBootSlot } from "../../update/install/slots.ts";

setLogLevel("silent");
const stateDir = process.env.BOXD_STATE_DIR!;
const crashAt = process.env.BOXD_CRASH_AT ?? "";

function crash(): never {
  process.kill(process.pid, "SIGKILL");
  throw new Error("SIGKILL did not stop the process");
}

if (process.env.BOXD_MODE === "start") {
  const selection = resolveBootSlot(stateDir);
  console.log(JSON.stringify({ slot: selection.slot, action: selection.action }));
  if (crashAt === "after-start") {
    crash();
  }
} else {
  const crashPercent = crashAt.startsWith("download:") ? Number(crashAt.slice("download:".length)) : null;
  await installUpdate(stateDir, JSON.parse(process.env.BOXD_TARGET!), {
    limits: { progressIntervalMs: 0 },
    onProgress(progress) {
      console.log(JSON.stringify(progress));
      if (crashPercent !== null && progress.phase === "downloading" && progress.bytesDone >= (progress.bytesTotal * crashPercent) / 100) {
        crash();
      }
    },
    onStep(step) {
      if (step === crashAt) {
        crash();
      }
    },
  });
}
