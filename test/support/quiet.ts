import { setLogLevel } from "../../daemon/log.ts";

// Tests run with logs off; set BOXD_TEST_LOG=debug (or another pino level) to see them.
setLogLevel(process.env.BOXD_TEST_LOG ?? "silent");
