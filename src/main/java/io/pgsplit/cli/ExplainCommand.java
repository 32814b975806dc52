package io.pgsplit.cli;

import io.pgsplit.config.ConfigException;
import io.pgsplit.config.ConfigLoader;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.server.Explainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Show how pgsplit classifies a statement, where it would route it and why (the keyword, "
                + "parsed construct, function volatility, hint or rule that decided).")
final class ExplainCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Configuration file whose routing settings and rules apply (default: built-in defaults)")
    Path config;

    @Option(names = {"-d", "--database"}, paramLabel = "NAME", description = "Database the statement is for")
    String database;

    @Option(names = {"-u", "--user"}, paramLabel = "NAME", description = "User sending the statement")
    String user;

    @Option(names = {"-a", "--application-name"}, paramLabel = "NAME",
            description = "application_name of the client (for rules that match on it)")
    String applicationName;

    @Option(names = {"--in-transaction"}, description = "Decide as if inside an open read-write transaction")
    boolean inTransaction;

    @Parameters(paramLabel = "SQL", description = "The statement (quote it for the shell)")
    String sql;

    @Override
    public Integer call() {
        PgsplitConfig cfg = null;
        if (config != null) {
            try {
                cfg = ConfigLoader.load(config);
            } catch (ConfigException e) {
                e.errors().forEach(err -> System.err.println(err));
                return 2;
            }
        }
        try {
            System.out.print(Explainer.explain(cfg, sql, database, user, applicationName, inTransaction));
        } catch (ConfigException e) {
            e.errors().forEach(err -> System.err.println(err));
            return 2;
        }
        return 0;
    }
}
