package io.pgsplit.cli;

import io.pgsplit.config.ConfigCheck;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Work with configuration files.",
        subcommands = ConfigCommand.Check.class)
final class ConfigCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: check");
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate a configuration file and print every error with its key path, line and "
                    + "column. Exits 0 when valid, 2 when not.")
    static final class Check implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "The YAML configuration file, e.g. pgsplit.example.yaml")
        Path file;

        @Override
        public Integer call() {
            return ConfigCheck.run(file, System.out, System.err);
        }
    }
}
