package io.tomcatredis.session.codec;

import java.util.Arrays;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * LZ4 compression of stored values ({@code compressionThreshold}) around the codec of
 * {@code serializer}: what that codec writes is compressed when it is at least the threshold long
 * and compression makes it smaller; what Redis holds compressed is decompressed whatever the
 * threshold is now (off included), so the setting can change between deploys in both directions.
 *
 * <p>A compressed value, byte by byte:
 * <pre>
 *   0xC4        {@link #LZ4}: no value of another format starts with it (0xF2 Kryo format 2,
 *               0xAC 0xED Java serialization, a Kryo class id below 0x80 for format 1)
 *   varint      the length of the uncompressed value, 1..{@value #MAX_UNCOMPRESSED_BYTES}
 *               (unsigned LEB128, 1 to 4 bytes)
 *   LZ4 block   the uncompressed value (LZ4 block format, no frame, no checksum): a value of one
 *               of the other formats, never compressed again
 * </pre>
 *
 * <p>Bytes from Redis are not trusted: a claimed length above {@value #MAX_UNCOMPRESSED_BYTES}, or
 * above what the block could expand to ({@value #MAX_RATIO} bytes per byte, LZ4's largest ratio),
 * is refused before anything is allocated, and a block that does not decompress to exactly the
 * claimed length is refused: a {@link SerializationException}, so the caller drops the value with a
 * WARN as it does any corrupt value. Values longer than {@value #MAX_UNCOMPRESSED_BYTES} are
 * stored uncompressed, so that everything this class writes reads back.
 *
 * <p>The pure-Java LZ4 ({@link LZ4Factory#safeInstance()}): no native library to load from Tomcat's
 * lib/ on whatever OS, no {@code sun.misc.Unsafe}; its output depends on the input only, so an
 * unchanged value compresses to the same bytes on every node running the same release. Change
 * detection does not rely on that: {@link #encode(Object, byte[])} compares uncompressed bytes.
 */
final class CompressingCodec implements AttributeCodec {

    /** First byte of a compressed value. */
    static final byte LZ4 = (byte) 0xC4;
    /** Longest value compressed, and the longest a compressed value may claim: 16 MiB. */
    static final int MAX_UNCOMPRESSED_BYTES = MAX_COMPRESSION_THRESHOLD;
    /**
     * LZ4's block format expands one byte to at most 255 (a match length grows by 255 per extra
     * length byte), so a block of n bytes never holds more than 255 n.
     */
    static final int MAX_RATIO = 255;

    private static final LZ4Factory FACTORY = LZ4Factory.safeInstance();
    private static final LZ4Compressor COMPRESSOR = FACTORY.fastCompressor();
    private static final LZ4SafeDecompressor DECOMPRESSOR = FACTORY.safeDecompressor();

    private final AttributeCodec serializer;
    private final int threshold;

    /**
     * @param threshold the shortest serialized value compressed, in bytes; 0 or negative: none
     *        (compressed values are still read)
     */
    CompressingCodec(AttributeCodec serializer, int threshold) {
        this.serializer = serializer;
        this.threshold = threshold;
    }

    @Override
    public byte[] encode(Object value) throws SerializationException {
        return compressed(serializer.encode(value));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Compares the serialized value with the uncompressed content of {@code stored}: an
     * unchanged value costs a decompression (several times cheaper than a compression) and no
     * compression, and is reported unchanged even if stored under another threshold or release.
     */
    @Override
    public byte[] encode(Object value, byte[] stored) throws SerializationException {
        byte[] serialized = serializer.encode(value);
        if (stored != null && holds(stored, serialized)) {
            return stored;
        }
        return compressed(serialized);
    }

    @Override
    public Object decode(byte[] bytes) throws SerializationException {
        if (bytes != null && bytes.length > 0 && bytes[0] == LZ4) {
            return serializer.decode(uncompressed(bytes));
        }
        return serializer.decode(bytes);
    }

    /** {@code serialized} compressed, or itself where the threshold or the gain says not to. */
    byte[] compressed(byte[] serialized) {
        int length = serialized.length;
        if (threshold <= 0 || length < threshold || length > MAX_UNCOMPRESSED_BYTES) {
            return serialized;
        }
        int header = 1 + varintSize(length);
        byte[] out = new byte[header + COMPRESSOR.maxCompressedLength(length)];
        out[0] = LZ4;
        writeVarint(out, 1, length);
        int block = COMPRESSOR.compress(serialized, 0, length, out, header, out.length - header);
        if (header + block >= length || (long) block * MAX_RATIO < length) {
            return serialized; // incompressible, or (never with LZ4) beyond what the reader accepts
        }
        return Arrays.copyOf(out, header + block);
    }

    /**
     * The value {@code stored} holds, uncompressed.
     *
     * @throws SerializationException when the header or the block is corrupt, or claims too much
     */
    static byte[] uncompressed(byte[] stored) throws SerializationException {
        int length = 0;
        int at = 1;
        for (int shift = 0; ; shift += 7) {
            if (at >= stored.length || shift > 21) {
                throw corrupt("its length header is truncated or longer than 4 bytes");
            }
            int b = stored[at++] & 0xFF;
            length |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        int block = stored.length - at;
        if (length < 1 || length > MAX_UNCOMPRESSED_BYTES || (long) block * MAX_RATIO < length) {
            throw corrupt("it claims " + length + " bytes uncompressed from " + block + " compressed (at most "
                    + MAX_UNCOMPRESSED_BYTES + ", and " + MAX_RATIO + " per compressed byte)");
        }
        byte[] out = new byte[length];
        int written;
        try {
            written = DECOMPRESSOR.decompress(stored, at, block, out, 0, length);
        } catch (RuntimeException e) {
            throw new SerializationException("corrupt compressed value: " + e.getMessage(), e);
        }
        if (written != length) {
            throw corrupt("it holds " + written + " bytes, not the " + length + " its header claims");
        }
        if (out[0] == LZ4) {
            throw corrupt("it holds another compressed value");
        }
        return out;
    }

    /** Whether {@code stored}, compressed or not, holds exactly {@code serialized}. */
    private static boolean holds(byte[] stored, byte[] serialized) {
        if (stored.length == 0 || stored[0] != LZ4) {
            return Arrays.equals(stored, serialized);
        }
        try {
            return Arrays.equals(uncompressed(stored), serialized);
        } catch (SerializationException e) {
            return false; // corrupt: the value is written again
        }
    }

    private static SerializationException corrupt(String why) {
        return new SerializationException("corrupt compressed value: " + why);
    }

    private static int varintSize(int value) {
        int size = 1;
        while ((value >>>= 7) != 0) {
            size++;
        }
        return size;
    }

    private static void writeVarint(byte[] out, int at, int value) {
        while ((value & ~0x7F) != 0) {
            out[at++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out[at] = (byte) value;
    }
}
