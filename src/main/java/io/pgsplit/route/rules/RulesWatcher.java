package io.pgsplit.route.rules;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls {@code reload} when the rules file changes: a {@link WatchService} on the file's directory (editors
 * often replace a file by renaming a new one over it, which only the directory sees), in a daemon thread.
 * Changes are debounced: the reload runs once no event came for {@link #DEBOUNCE_MS} ms, so an editor's
 * truncate-then-write or a burst of writes gives one reload of the finished file.
 */
public final class RulesWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RulesWatcher.class);
    static final long DEBOUNCE_MS = 200;

    private final Path file;
    private final Runnable reload;
    private final WatchService watcher;
    private final Thread thread;

    private RulesWatcher(Path file, Runnable reload, WatchService watcher) {
        this.file = file;
        this.reload = reload;
        this.watcher = watcher;
        this.thread = new Thread(this::loop, "pgsplit-rules-watcher");
        this.thread.setDaemon(true);
    }

    /** Starts watching; null (after logging why) when the file system offers no watch service. */
    public static RulesWatcher start(Path file, Runnable reload) {
        Path abs = file.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        try {
            WatchService ws = FileSystems.getDefault().newWatchService();
            dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
            RulesWatcher w = new RulesWatcher(abs, reload, ws);
            w.thread.start();
            log.info("watching {} for changes (routing rules reload automatically; SIGHUP reloads too)", abs);
            return w;
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("cannot watch {} for changes ({}); reload the rules with SIGHUP", abs, e.toString());
            return null;
        }
    }

    private void loop() {
        Path name = file.getFileName();
        try {
            while (true) {
                WatchKey key = watcher.take();
                boolean ours = drain(key, name);
                // debounce: keep collecting until the directory has been quiet for DEBOUNCE_MS
                while (true) {
                    WatchKey next = watcher.poll(DEBOUNCE_MS, TimeUnit.MILLISECONDS);
                    if (next == null) {
                        break;
                    }
                    ours |= drain(next, name);
                }
                if (ours) {
                    try {
                        reload.run();
                    } catch (RuntimeException e) {
                        log.error("reloading routing rules from {} failed", file, e);
                    }
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException stop) {
            // closed
        }
    }

    /** Consumes the key's events; true when one is about the rules file (or the events overflowed). */
    private static boolean drain(WatchKey key, Path name) {
        boolean ours = false;
        for (WatchEvent<?> e : key.pollEvents()) {
            if (e.kind() == StandardWatchEventKinds.OVERFLOW || name.equals(e.context())) {
                ours = true;
            }
        }
        key.reset();
        return ours;
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            log.debug("closing the rules watcher", e);
        }
        thread.interrupt();
    }
}
