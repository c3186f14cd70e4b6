package io.tomcatredis.cache;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One persistent HTTP/1.1 connection that sends request lines and headers verbatim (odd paths,
 * any Host), for tests that send many requests. Not thread-safe: one per thread and node.
 */
final class KeepAliveClient implements AutoCloseable {

    record Response(int status, List<String> headerLines, byte[] body) {
        String header(String name) {
            String prefix = name.toLowerCase(Locale.ROOT) + ":";
            for (String line : headerLines) {
                if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
                    return line.substring(prefix.length()).trim();
                }
            }
            return null;
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    KeepAliveClient(int port) {
        this.port = port;
    }

    /** Sends {@code GET rawPath} with the given Host and header lines; reconnects when the server closed. */
    Response get(String rawPath, String host, List<String> headerLines) {
        StringBuilder request = new StringBuilder("GET ").append(rawPath).append(" HTTP/1.1\r\nHost: ").append(host)
                .append("\r\n");
        for (String line : headerLines) {
            request.append(line).append("\r\n");
        }
        byte[] bytes = request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    connect();
                    out.write(bytes);
                    out.flush();
                    return read();
                } catch (IOException e) {
                    close();
                    if (attempt == 1) {
                        throw e;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + rawPath + " on port " + port, e);
        }
    }

    private void connect() throws IOException {
        if (socket == null) {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }
    }

    private Response read() throws IOException {
        String statusLine = line();
        if (statusLine == null) {
            throw new IOException("connection closed");
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        List<String> headers = new ArrayList<>();
        String line;
        while ((line = line()) != null && !line.isEmpty()) {
            headers.add(line);
        }
        Response head = new Response(status, headers, new byte[0]);
        byte[] body;
        String length = head.header("Content-Length");
        if ("chunked".equalsIgnoreCase(head.header("Transfer-Encoding"))) {
            ByteArrayOutputStream chunks = new ByteArrayOutputStream();
            int size;
            while ((size = Integer.parseInt(line().split(";")[0].trim(), 16)) > 0) {
                chunks.write(in.readNBytes(size));
                line();
            }
            while ((line = line()) != null && !line.isEmpty()) {
                // trailer fields
            }
            body = chunks.toByteArray();
        } else {
            body = length == null || status == 304 || status == 204 ? new byte[0]
                    : in.readNBytes(Integer.parseInt(length));
        }
        if ("close".equalsIgnoreCase(head.header("Connection"))) {
            close();
        }
        return new Response(status, headers, body);
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // Closing a socket the server may already have closed.
            }
            socket = null;
        }
    }
}
