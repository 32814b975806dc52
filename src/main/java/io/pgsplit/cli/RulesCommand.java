package io.pgsplit.cli;

import picocli.CommandLine.Command;

@Command(name = "rules", mixinStandardHelpOptions = true, description = "Work with routing-rules files.",
        subcommands = {})
final class RulesCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: check");
    }
}
