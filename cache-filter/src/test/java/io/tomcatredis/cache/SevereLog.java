package io.tomcatredis.cache;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The SEVERE messages the cache filter's loggers publish while it is open. */
final class SevereLog extends Handler implements AutoCloseable {

    private final Logger ours = Logger.getLogger("io.tomcatredis.cache");
    private final List<String> messages = new CopyOnWriteArrayList<>();

    SevereLog() {
        ours.addHandler(this);
    }

    List<String> messages() {
        return List.copyOf(messages);
    }

    @Override
    public void publish(LogRecord record) {
        if (record.getLevel() == Level.SEVERE) {
            messages.add(record.getMessage());
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        ours.removeHandler(this);
    }
}
