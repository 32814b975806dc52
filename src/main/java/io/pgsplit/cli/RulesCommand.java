package io.pgsplit.cli;

import io.pgsplit.config.ConfigCheck;
import io.pgsplit.config.ConfigException;
import io.pgsplit.config.ConfigLoader;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.route.rules.Rule;
import io.pgsplit.route.rules.RoutingRules;
import io.pgsplit.route.rules.RulesLoader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "rules", mixinStandardHelpOptions = true, description = "Work with routing-rules files.",
        subcommands = RulesCommand.Check.class)
final class RulesCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: check");
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate a routing-rules file and print every error with its file, key path, line and "
                    + "column. With --config, route names are checked against the configuration's replicas and "
                    + "groups. Exits 0 when valid, 2 when not.")
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "The routing-rules file, e.g. routing-rules/reports-to-replicas.yaml")
        Path file;

        @Option(names = {"-c", "--config"}, paramLabel = "CFG",
                description = "The pgsplit configuration the rules are for (checks replica and group names)")
        Path config;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            PgsplitConfig cfg = null;
            if (config != null) {
                try {
                    cfg = ConfigLoader.load(config);
                } catch (ConfigException e) {
                    e.errors().forEach(err::println);
                    err.flush();
                    return ConfigCheck.CONFIG_ERROR;
                }
            }
            try {
                RoutingRules rules = RulesLoader.load(file, file.toString(), cfg);
                long dry = rules.rules().stream().filter(Rule::dryRun).count();
                out.println(file + ": OK (" + count(rules.rules().size(), "rule")
                        + (dry > 0 ? ", " + dry + " in dry run" : "") + ", "
                        + count(rules.functionDeclarationCount(), "function declaration")
                        + (cfg == null ? "; replica names not checked: no --config" : "") + ")");
                out.flush();
                return 0;
            } catch (ConfigException e) {
                e.errors().forEach(err::println);
                err.println(file + ": " + count(e.errors().size(), "error"));
                err.flush();
                return ConfigCheck.CONFIG_ERROR;
            }
        }

        private static String count(long n, String noun) {
            return n + " " + noun + (n == 1 ? "" : "s");
        }
    }
}
