package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SaveBeforeCommitResponseTest {

    private final HttpServletResponse real = mock(HttpServletResponse.class);
    private int saves;
    private SaveBeforeCommitResponse response;

    @BeforeEach
    void wrap() throws IOException {
        when(real.getBufferSize()).thenReturn(100);
        when(real.getCharacterEncoding()).thenReturn("UTF-8");
        when(real.getOutputStream()).thenReturn(new ServletOutputStream() {
            private final ByteArrayOutputStream sink = new ByteArrayOutputStream();

            @Override
            public void write(int b) {
                sink.write(b);
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
            }
        });
        when(real.getWriter()).thenReturn(new PrintWriter(new StringWriter()));
        response = new SaveBeforeCommitResponse(real, () -> saves++);
    }

    @Test
    void writesThatFitTheBufferDoNotSave() throws IOException {
        response.getOutputStream().write(new byte[99]);
        assertThat(saves).isZero();
    }

    @Test
    void writeThatMayFillTheBufferSavesFirst_regressionStreamedBodyOvertakesTheSave() throws IOException {
        response.getOutputStream().write(new byte[60]);
        response.getOutputStream().write(new byte[40]);
        assertThat(saves).isEqualTo(1);
    }

    @Test
    void writerCountsTheMostBytesACharacterCanTake() throws IOException {
        response.getWriter().write("x".repeat(33));
        assertThat(saves).isZero();
        response.getWriter().write("x");
        assertThat(saves).as("34 chars of UTF-8 may be 102 bytes").isEqualTo(1);
    }

    @Test
    void reachingTheDeclaredContentLengthSavesFirst() throws IOException {
        response.setContentLength(10);
        response.getOutputStream().write(new byte[9]);
        assertThat(saves).isZero();
        response.getOutputStream().write(1);
        assertThat(saves).isEqualTo(1);
    }

    @Test
    void everyExplicitCommitSavesFirst_regressionFlushBufferOvertakesTheSave() throws IOException {
        response.flushBuffer();
        response.getOutputStream().flush();
        response.sendRedirect("/next");
        response.sendError(404);
        response.getWriter().close();
        assertThat(saves).isEqualTo(5);
    }
}
