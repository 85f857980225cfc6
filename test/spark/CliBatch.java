import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.fs.s3a.s3guard.S3GuardTool;
import org.apache.hadoop.util.ExitUtil;
import org.apache.hadoop.util.ToolRunner;

/**
 * CliBatch runs a sequence of Hadoop command-line tools in one JVM, for test/spark/hadoop-cli.sh:
 * a JVM start per command (the Hadoop client and the AWS SDK bundle load for seconds) would
 * dominate the run time. Each command behaves as its own process would: a fresh Configuration,
 * its own FileSystem instances, closed afterwards (which logs their IOStatistics), and its
 * stdout/stderr captured separately.
 *
 * <p>Usage: {@code java CliBatch SCRIPT OUTDIR}. SCRIPT has one command per line, tab-separated:
 * NAME, TOOL ({@code fs} for FsShell, {@code s3guard} for S3GuardTool), then the arguments. For each
 * command, OUTDIR/NAME.out and OUTDIR/NAME.err receive its output and OUTDIR/NAME.rc its exit
 * status. The log4j console appender must follow System.err (log4j.appender.X.Follow=true).
 */
public final class CliBatch {
  private CliBatch() {
  }

  public static void main(String[] argv) throws Exception {
    List<String> lines = Files.readAllLines(Paths.get(argv[0]), StandardCharsets.UTF_8);
    Path out = Paths.get(argv[1]);
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    ExitUtil.disableSystemExit();
    for (String line : lines) {
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split("\t", -1);
      String name = f[0];
      String tool = f[1];
      String[] args = Arrays.copyOfRange(f, 2, f.length);
      int rc;
      try (PrintStream o = new PrintStream(new FileOutputStream(out.resolve(name + ".out").toFile()), true, "UTF-8");
           PrintStream e = new PrintStream(new FileOutputStream(out.resolve(name + ".err").toFile()), true, "UTF-8")) {
        System.setOut(o);
        System.setErr(e);
        try {
          if (tool.equals("fs")) {
            rc = ToolRunner.run(new FsShell(new Configuration()), args);
          } else if (tool.equals("s3guard")) {
            rc = S3GuardTool.run(new Configuration(), args);
          } else {
            throw new IllegalArgumentException("unknown tool " + tool);
          }
        } catch (ExitUtil.ExitException ex) {
          e.println(ex);
          rc = ex.getExitCode();
        } catch (Throwable t) {
          t.printStackTrace(e);
          rc = -1;
        } finally {
          try {
            FileSystem.closeAll();
          } catch (Throwable t) {
            t.printStackTrace(e);
          }
          System.out.flush();
          System.err.flush();
          System.setOut(stdout);
          System.setErr(stderr);
        }
      }
      Files.write(out.resolve(name + ".rc"), (rc + "\n").getBytes(StandardCharsets.UTF_8));
      stdout.println(name + " " + rc);
    }
  }
}
