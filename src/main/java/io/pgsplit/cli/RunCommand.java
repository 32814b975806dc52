package io.pgsplit.cli;

import io.pgsplit.config.ConfigException;
import io.pgsplit.config.ConfigLoader;
import io.pgsplit.config.PgsplitConfig;
import io.pgsplit.server.Pgsplit;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start the router with a configuration file and serve until stopped (Ctrl-C or SIGTERM). "
                + "SIGHUP reloads the routing rules.")
final class RunCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "The YAML configuration file (see pgsplit.example.yaml)")
    Path config;

    @Override
    public Integer call() throws Exception {
        PgsplitConfig cfg;
        try {
            cfg = ConfigLoader.load(config);
        } catch (ConfigException e) {
            e.errors().forEach(err -> System.err.println(err));
            return 2;
        }
        Pgsplit started;
        try {
            started = Pgsplit.start(cfg);
        } catch (ConfigException e) {
            e.errors().forEach(err -> System.err.println(err));
            return 2;
        }
        try (Pgsplit router = started) {
            Runtime.getRuntime().addShutdownHook(new Thread(router::close, "pgsplit-shutdown"));
            System.out.println("pgsplit listening on " + cfg.listen().host() + ":" + router.port());
            router.awaitClose();
        }
        return 0;
    }
}
