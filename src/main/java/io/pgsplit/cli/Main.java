package io.pgsplit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The pgsplit command line. Exit codes: 0 success, 2 usage or configuration error, 1 runtime failure.
 */
@Command(name = "pgsplit", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "PostgreSQL router: pools server connections and sends reads to replicas, writes to the "
                + "primary, behind one endpoint.",
        subcommands = {RunCommand.class, DemoCommand.class, ConfigCommand.class, ExplainCommand.class,
                RulesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("pgsplit: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return 1;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: run, demo, config check, "
                + "explain or rules check (see pgsplit --help)");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"pgsplit " + (v == null ? "development build" : v)};
        }
    }
}
