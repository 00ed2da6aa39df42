import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The reference stack's cost per DUIS request: the DCC Boxed signing tool's
 * Validate then Sign, called in one warm JVM so process start-up is not
 * counted. Arguments: request file, response file, warm-up seconds,
 * measured seconds. Prints "validate+sign/s <rate>".
 */
public final class ValidateSignBench {
  public static void main(String[] args) throws Exception {
    String request = args[0];
    String response = args[1];
    double warmupSeconds = Double.parseDouble(args[2]);
    double measureSeconds = Double.parseDouble(args[3]);

    PrintStream console = System.out;
    PrintStream sink = new PrintStream(new ByteArrayOutputStream() {
      @Override
      public synchronized void write(byte[] b, int off, int len) {}
    });
    System.setOut(sink);
    System.setErr(sink);

    run(request, response, (long) (warmupSeconds * 1e9));
    long started = System.nanoTime();
    long count = run(request, response, (long) (measureSeconds * 1e9));
    double seconds = (System.nanoTime() - started) / 1e9;

    console.printf("validate+sign/s %.1f%n", count / seconds);
  }

  private static long run(String request, String response, long nanos) throws Exception {
    long deadline = System.nanoTime() + nanos;
    long count = 0;
    while (System.nanoTime() < deadline) {
      Object validated = uk.co.smartdcc.boxed.xmldsig.Validate.main_aux(new String[] {request});
      Object signed = uk.co.smartdcc.boxed.xmldsig.Sign.main_aux(new String[] {response, "--preserveCounter"});
      if (!validated.toString().equals("SUCCESS") || !signed.toString().equals("SUCCESS")) {
        throw new IllegalStateException("validate " + validated + ", sign " + signed);
      }
      count++;
    }
    return count;
  }
}
