package io.pgsplit.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Collects what pgsplit (and Netty) log at WARN or above while a test runs, so the test can fail on
 * an unexpected exception or a Netty {@code LEAK:} report instead of leaving it in a log file nobody
 * reads. Attach with {@link #start()}, look with {@link #events()}, detach with {@link #close()}.
 */
public final class LogCapture implements AutoCloseable {
    private final Appender appender = new Appender();
    private final Logger root;

    private LogCapture() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        appender.setContext(context);
        appender.setName("test-capture");
        appender.start();
        root.addAppender(appender);
    }

    public static LogCapture start() {
        return new LogCapture();
    }

    /** Events at WARN or above so far, as "LEVEL logger - message [exception]". */
    public List<String> events() {
        synchronized (appender.events) {
            return new ArrayList<>(appender.events);
        }
    }

    /** The events not matched by {@code expected} (WARNs a test provokes on purpose). */
    public List<String> unexpected(Predicate<String> expected) {
        return events().stream().filter(expected.negate()).toList();
    }

    public void clear() {
        synchronized (appender.events) {
            appender.events.clear();
        }
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        appender.stop();
    }

    private static final class Appender extends AppenderBase<ILoggingEvent> {
        final List<String> events = new ArrayList<>();

        @Override
        protected void append(ILoggingEvent e) {
            if (!e.getLevel().isGreaterOrEqual(Level.WARN)) {
                return;
            }
            String line = e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage()
                    + (e.getThrowableProxy() == null ? "" : " [" + e.getThrowableProxy().getClassName() + ": "
                    + e.getThrowableProxy().getMessage() + "]");
            synchronized (events) {
                events.add(line);
            }
        }
    }
}
