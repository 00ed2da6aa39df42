/**
 * JSON views of update reports for the admin API: releases as
 * `2.4.0 (counter 24)`, errors as name and message, no raw signed custom
 * objects.
 */
import type { BadRelease } from "../../update/install/index.ts";
import { describeRelease, type RollbackReport, type RunningRelease, type UpdateCheck, type UpdateDecision } from "../../update/service.ts";

/** Text of `configPatchesNote` in the check report: what POST /update/install does with config patches today. */
export const CONFIG_PATCHES_NOTE =
  "Config patches are listed only. POST /update/install installs full releases and does not apply config patches yet.";

/** Returns the check report as the admin API sends it. */
export function summarizeCheck(report: UpdateCheck): Record<string, unknown> {
  const note = floorNote(report.running, report.floor);
  return {
    channel: report.channel,
    pin: report.pin ?? null,
    installed: describeRunning(report.running),
    floor: describeRelease(report.floor),
    ...(note === undefined ? {} : { floorNote: note }),
    latest: describeRelease(report.latest),
    newerThanPin: report.newerThanPin.map(describeRelease),
    decision: summarizeDecision(report.decision),
    bad: report.bad.map(describeMark),
    configPatches: report.configPatches.map((release) => release.name),
    configPatchesSkipped: report.configPatchesSkipped.map((item) => ({ target: item.release.name, reason: item.reason })),
    configPatchesNote: CONFIG_PATCHES_NOTE,
    installedRevoked: report.installedRevoked,
    rejected: report.rejected.map((item) => ({ target: item.name, error: item.error.message })),
    autoInstall: report.autoInstall,
  };
}

/** Returns the rollback result as the admin API sends it. */
export function summarizeRollback(report: RollbackReport): Record<string, unknown> {
  const { markedBad, floor, ...slots } = report;
  const notes = ["Restart boxd (SIGTERM, then start it again) to run the slot rolled back to."];
  if (markedBad !== null) {
    notes.push(`Release ${markedBad.version} is marked bad and is not offered again until you clear the mark (admin-cli clear-bad ${markedBad.version}).`);
  }
  if (floor !== null) {
    notes.push(
      `The release counter floor stays at ${floor.counter} (${floor.version}). ` +
        `Releases of the followed channel at or above counter ${floor.counter} are offered, including ${floor.version} again once it is not marked bad, and releases below it only as vendor-signed downgrades from it.`,
    );
  }

  return {
    ...slots,
    markedBad: markedBad === null ? null : describeMark(markedBad),
    floor: describeRelease(floor ?? undefined),
    note: notes.join(" "),
  };
}

/** Returns a bad-release mark with its time as ISO 8601. */
export function describeMark(mark: BadRelease): Record<string, unknown> {
  return { version: mark.version, target: mark.targetName, reason: mark.reason, at: new Date(mark.at).toISOString() };
}

/** Returns the running release as `1.1.0 (counter 11)`, or the bare version when its counter is unknown. */
export function describeRunning(running: RunningRelease): string {
  return running.counter === null ? running.version : `${running.version} (counter ${running.counter})`;
}

function summarizeDecision(decision: UpdateDecision): Record<string, unknown> {
  if (decision.action === "error") {
    return { action: "error", error: decision.error.name, message: decision.error.message };
  }

  if (decision.action === "none" && decision.reason === "marked-bad") {
    const version = decision.release.version;
    return {
      action: "none",
      reason: "marked-bad",
      release: describeRelease(decision.release),
      version,
      badReason: decision.mark.reason,
      message:
        `Release ${version} is marked bad (${decision.mark.reason}), so it is not installed again. ` +
        `Clear the mark with "admin-cli clear-bad ${version}" (DELETE /update/bad/${version}) to try it again.`,
    };
  }

  return {
    action: decision.action,
    ...("release" in decision ? { release: describeRelease(decision.release), version: decision.release.version } : {}),
    ...("reason" in decision ? { reason: decision.reason } : {}),
  };
}

/** Explains a floor above the running release, which a rollback leaves behind. */
function floorNote(running: RunningRelease, floor: { version: string; counter: number }): string | undefined {
  const above = running.counter === null ? floor.version !== running.version : floor.counter > running.counter;
  if (!above) {
    return undefined;
  }
  return (
    `${describeRunning(running)} runs, but the release counter floor stays at ${floor.version} (counter ${floor.counter}) because a rollback does not lower it. ` +
    `Releases of the followed channel at or above counter ${floor.counter} are offered, so ${floor.version} can be installed again once it is not marked bad ` +
    `(admin-cli clear-bad ${floor.version}, then admin-cli install). Releases below counter ${floor.counter} are offered only when the vendor signed them as a downgrade from it.`
  );
}
