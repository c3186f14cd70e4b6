package io.tomcatredis.session.fidelity;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The corpus of session attribute values ({@code src/test/resources/fidelity/corpus}), compiled at
 * test time into a directory that is not on the test class path (a webapp's WEB-INF/classes), and
 * the two round trips the differential tests compare: Java serialization, and the session store.
 */
public final class FidelityCorpus {

    private static final String[] SOURCES = {"corpus/Corpus.java", "corpus/MoreKinds.java"};

    private FidelityCorpus() {
    }

    /** Compiles the corpus into {@code classes} (created if needed) against the test class path. */
    public static void compileInto(Path classes) {
        try {
            Path sources = Files.createTempDirectory("fidelity-src-");
            List<String> arguments = new ArrayList<>(List.of("-d", classes.toString(), "-classpath",
                    System.getProperty("java.class.path"), "-proc:none", "-nowarn", "-encoding", "UTF-8"));
            for (String source : SOURCES) {
                Path file = sources.resolve(source);
                Files.createDirectories(file.getParent());
                try (InputStream in = FidelityCorpus.class.getResourceAsStream("/fidelity/" + source)) {
                    Files.copy(in, file);
                }
                arguments.add(file.toString());
            }
            Files.createDirectories(classes);
            JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
            java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
            int status = compiler.run(null, errors, errors, arguments.toArray(new String[0]));
            if (status != 0) {
                throw new IllegalStateException("javac of the fidelity corpus failed:\n" + errors);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code corpus.Corpus.values()} of the corpus loaded by {@code loader}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> values(ClassLoader loader) {
        return (Map<String, Object>) invoke(loader, "values", new Class<?>[0]);
    }

    /** {@code corpus.Corpus.probe(name, value)}: what {@code value} does when exercised. */
    @SuppressWarnings("unchecked")
    public static List<String> probe(ClassLoader loader, String name, Object value) {
        return (List<String>) invoke(loader, "probe", new Class<?>[] {String.class, Object.class}, name, value);
    }

    /** {@code corpus.Corpus.lazyAccount()}: the second failing input. */
    public static Object lazyAccount(ClassLoader loader) {
        return invoke(loader, "lazyAccount", new Class<?>[0]);
    }

    /** {@code corpus.Corpus.growingList()}: a list modified while it is serialized. */
    public static Object growingList(ClassLoader loader) {
        return invoke(loader, "growingList", new Class<?>[0]);
    }

    private static Object invoke(ClassLoader loader, String method, Class<?>[] parameters, Object... arguments) {
        try {
            Method m = Class.forName("corpus.Corpus", true, loader).getMethod(method, parameters);
            return m.invoke(null, arguments);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code value} after a Java serialization round trip, classes resolved through {@code loader}. */
    public static Object javaRoundTrip(Object value, ClassLoader loader) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(value);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())) {
                @Override
                protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
                    try {
                        return Class.forName(desc.getName(), false, loader);
                    } catch (ClassNotFoundException e) {
                        return super.resolveClass(desc);
                    }
                }

                @Override
                protected Class<?> resolveProxyClass(String[] interfaces) throws ClassNotFoundException {
                    Class<?>[] types = new Class<?>[interfaces.length];
                    for (int i = 0; i < interfaces.length; i++) {
                        types[i] = Class.forName(interfaces[i], false, loader);
                    }
                    return java.lang.reflect.Proxy.newProxyInstance(loader, types, (p, m, a) -> null).getClass();
                }
            }) {
                return in.readObject();
            }
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("Java serialization round trip of " + value.getClass().getName()
                    + " failed", e);
        }
    }
}
