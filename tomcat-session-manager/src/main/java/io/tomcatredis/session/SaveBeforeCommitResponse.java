package io.tomcatredis.session;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.Charset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs a save before every point at which the response can reach the client: an explicit flush,
 * {@code sendError}, {@code sendRedirect}, closing the body, a write that may fill the buffer or
 * reach the declared content length. Conservative: it may save a little early, never late.
 */
final class SaveBeforeCommitResponse extends HttpServletResponseWrapper {

    /** Names of charsets the JVM knows (a bounded set), to the most bytes one char makes. */
    private static final Map<String, Integer> MAX_BYTES_PER_CHAR = new ConcurrentHashMap<>();

    private final Runnable beforeCommit;
    /** Bytes (or, for the writer, bytes at most) written since the last save. */
    private long pending;
    private long contentLength = -1;
    private ServletOutputStream outputStream;
    private PrintWriter writer;

    SaveBeforeCommitResponse(HttpServletResponse response, Runnable beforeCommit) {
        super(response);
        this.beforeCommit = beforeCommit;
    }

    /** A write of {@code bytes} is about to happen. */
    private void writing(long bytes) {
        long after = pending + bytes;
        if (after >= getBufferSize() || contentLength >= 0 && after >= contentLength) {
            beforeCommit.run();
            pending = 0;
        }
        pending += bytes;
    }

    private void committing() {
        beforeCommit.run();
        pending = 0;
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        ServletOutputStream delegate = super.getOutputStream();
        if (outputStream == null) {
            outputStream = new GuardedOutputStream(delegate);
        }
        return outputStream;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        PrintWriter delegate = super.getWriter();
        if (writer == null) {
            writer = new GuardedWriter(delegate, maxBytesPerChar(getCharacterEncoding()));
        }
        return writer;
    }

    /** The most bytes one char can make in {@code charsetName}; 4 for a charset the JVM does not know. */
    private static int maxBytesPerChar(String charsetName) {
        // Per charset, not per request: a new encoder for every response costs more than the guard.
        Integer known = charsetName == null ? null : MAX_BYTES_PER_CHAR.get(charsetName);
        if (known != null) {
            return known;
        }
        try {
            int bytes = (int) Math.ceil(Charset.forName(charsetName).newEncoder().maxBytesPerChar());
            MAX_BYTES_PER_CHAR.put(charsetName, bytes);
            return bytes;
        } catch (RuntimeException e) {
            return 4;
        }
    }

    @Override
    public void flushBuffer() throws IOException {
        committing();
        super.flushBuffer();
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        committing();
        super.sendError(sc, msg);
    }

    @Override
    public void sendError(int sc) throws IOException {
        committing();
        super.sendError(sc);
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        committing();
        super.sendRedirect(location);
    }

    @Override
    public void sendRedirect(String location, int sc, boolean clearBuffer) throws IOException {
        committing();
        super.sendRedirect(location, sc, clearBuffer);
    }

    @Override
    public void sendRedirect(String location, int sc) throws IOException {
        committing();
        super.sendRedirect(location, sc);
    }

    @Override
    public void sendRedirect(String location, boolean clearBuffer) throws IOException {
        committing();
        super.sendRedirect(location, clearBuffer);
    }

    @Override
    public void reset() {
        super.reset();
        pending = 0;
        contentLength = -1;
    }

    @Override
    public void resetBuffer() {
        super.resetBuffer();
        pending = 0;
    }

    @Override
    public void setContentLength(int len) {
        super.setContentLength(len);
        contentLength = len;
    }

    @Override
    public void setContentLengthLong(long len) {
        super.setContentLengthLong(len);
        contentLength = len;
    }

    @Override
    public void setHeader(String name, String value) {
        super.setHeader(name, value);
        trackContentLength(name, value);
    }

    @Override
    public void addHeader(String name, String value) {
        super.addHeader(name, value);
        trackContentLength(name, value);
    }

    @Override
    public void setIntHeader(String name, int value) {
        super.setIntHeader(name, value);
        trackContentLength(name, Integer.toString(value));
    }

    @Override
    public void addIntHeader(String name, int value) {
        super.addIntHeader(name, value);
        trackContentLength(name, Integer.toString(value));
    }

    /**
     * Answers 503 with {@code Retry-After} without saving first (the save is what failed), unless
     * the response is already committed.
     */
    void sendUnavailable() throws IOException {
        if (isCommitted()) {
            return;
        }
        super.reset();
        super.setHeader("Retry-After", "1");
        super.sendError(SC_SERVICE_UNAVAILABLE, "Session store unavailable");
    }

    private void trackContentLength(String name, String value) {
        if ("Content-Length".equalsIgnoreCase(name)) {
            try {
                contentLength = value == null ? -1 : Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                contentLength = -1;
            }
        }
    }

    /** The body as bytes. */
    private final class GuardedOutputStream extends ServletOutputStream {
        private final ServletOutputStream delegate;

        GuardedOutputStream(ServletOutputStream delegate) {
            this.delegate = delegate;
        }

        @Override
        public void write(int b) throws IOException {
            writing(1);
            delegate.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writing(len);
            delegate.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            committing();
            delegate.flush();
        }

        @Override
        public void close() throws IOException {
            committing();
            delegate.close();
        }

        @Override
        public boolean isReady() {
            return delegate.isReady();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            delegate.setWriteListener(listener);
        }
    }

    /**
     * The body as characters: each counts as the most bytes the charset can make of it. Counted
     * below the {@link PrintWriter}, so every way of writing ({@code println}, {@code printf},
     * {@code append}) passes here.
     */
    private final class GuardedWriter extends PrintWriter {
        private final PrintWriter delegate;

        GuardedWriter(PrintWriter delegate, int bytesPerChar) {
            super(new CountingWriter(delegate, bytesPerChar));
            this.delegate = delegate;
        }

        @Override
        public boolean checkError() {
            return super.checkError() || delegate.checkError();
        }
    }

    private final class CountingWriter extends Writer {
        private final PrintWriter delegate;
        private final int bytesPerChar;

        CountingWriter(PrintWriter delegate, int bytesPerChar) {
            this.delegate = delegate;
            this.bytesPerChar = bytesPerChar;
        }

        @Override
        public void write(char[] buf, int off, int len) {
            writing((long) len * bytesPerChar);
            delegate.write(buf, off, len);
        }

        @Override
        public void write(String s, int off, int len) {
            writing((long) len * bytesPerChar);
            delegate.write(s, off, len);
        }

        @Override
        public void write(int c) {
            writing(bytesPerChar);
            delegate.write(c);
        }

        @Override
        public void flush() {
            committing();
            delegate.flush();
        }

        @Override
        public void close() {
            committing();
            delegate.close();
        }
    }
}
