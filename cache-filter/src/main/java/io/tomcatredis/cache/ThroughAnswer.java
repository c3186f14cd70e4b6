package io.tomcatredis.cache;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The client's preconditions and range answered on a render that goes through to the client
 * unstored ({@code oversized}, {@code flushed}, async, ...). The application rendered the neutral
 * request ({@link NeutralRequest}), so it never answered them itself; when the response goes
 * through, its status, validators ({@code ETag}, {@code Last-Modified}) and declared
 * {@code Content-Length} are known (a servlet sets them before the body), and the filter answers
 * as it does from an entry: 412 or 304 ({@link Preconditions}) with no body, and for a GET of a
 * 200 whose length was declared, 206 with the one satisfiable range or 416 ({@link ByteRanges});
 * without a declared length, or beyond 2^31 - 1 bytes, a {@code Range} gets the full response,
 * which RFC 9110 14.2 allows. The body the application goes on writing is cut to what is sent.
 */
final class ThroughAnswer {

    /**
     * @param status the status the client is sent, replacing the application's (a later
     *     {@code setStatus} of the application does not reach the client), or 0 to send the
     *     application's
     * @param first index of the first body byte sent
     * @param last index of the last body byte sent, inclusive; -1 for none, {@code Long.MAX_VALUE} for all
     */
    record Answer(int status, long first, long last) {
        static final Answer PROCEED = new Answer(0, 0, Long.MAX_VALUE);

        /** The application's body, cut to the bytes this answer sends. */
        OutputStream cut(OutputStream body) {
            if (first == 0 && last == Long.MAX_VALUE) {
                return body;
            }
            return new OutputStream() {
                private long position;

                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) throws IOException {
                    long from = Math.max(position, first);
                    long to = Math.min(position + length - 1, last);
                    if (from <= to) {
                        body.write(bytes, offset + (int) (from - position), (int) (to - from + 1));
                    }
                    position += length;
                }

                @Override
                public void flush() throws IOException {
                    if (last >= 0) {
                        body.flush();
                    }
                }
            };
        }
    }

    private ThroughAnswer() {
    }

    /**
     * Answers {@code client}'s conditional and range headers on {@code response}, whose status and
     * headers have just been set from the render.
     *
     * @param client the client's request (with the headers the application did not see)
     * @param status the render's status
     * @param declaredLength the {@code Content-Length} the application declared, or -1
     */
    static Answer answer(HttpServletRequest client, HttpServletResponse response, int status, long declaredLength) {
        String etag = response.getHeader("ETag");
        String lastModified = response.getHeader("Last-Modified");
        switch (Preconditions.evaluate(client, status, etag, lastModified)) {
            case NOT_MODIFIED -> {
                response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
                response.setContentType(null);
                return new Answer(HttpServletResponse.SC_NOT_MODIFIED, 0, -1);
            }
            case PRECONDITION_FAILED -> {
                response.setStatus(HttpServletResponse.SC_PRECONDITION_FAILED);
                response.setContentType(null);
                response.setContentLength(0);
                return new Answer(HttpServletResponse.SC_PRECONDITION_FAILED, 0, -1);
            }
            default -> {
                // Proceed: a range, if one applies.
            }
        }
        if (status != HttpServletResponse.SC_OK || !client.getMethod().equals("GET") || client.getHeader("Range") == null
                || declaredLength < 0 || declaredLength > Integer.MAX_VALUE
                || !Preconditions.rangeApplies(client, etag, lastModified)) {
            return Answer.PROCEED;
        }
        ByteRanges.Selection range = ByteRanges.select(client.getHeader("Range"), (int) declaredLength);
        switch (range.kind()) {
            case PARTIAL -> {
                response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
                response.setHeader("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + declaredLength);
                response.setContentLength(range.last() - range.first() + 1);
                return new Answer(HttpServletResponse.SC_PARTIAL_CONTENT, range.first(), range.last());
            }
            case UNSATISFIABLE -> {
                response.setStatus(HttpServletResponse.SC_REQUESTED_RANGE_NOT_SATISFIABLE);
                response.setHeader("Content-Range", "bytes */" + declaredLength);
                response.setContentType(null);
                response.setContentLength(0);
                return new Answer(HttpServletResponse.SC_REQUESTED_RANGE_NOT_SATISFIABLE, 0, -1);
            }
            default -> {
                return Answer.PROCEED;
            }
        }
    }
}
