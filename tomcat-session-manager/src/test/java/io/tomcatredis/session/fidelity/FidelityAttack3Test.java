package io.tomcatredis.session.fidelity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.ClassFilter;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Kryo builds instances with their no-arg constructor where there is one; Java serialization never
 * runs the constructor of a Serializable class (only that of its first non-serializable superclass,
 * Object here). A constructor with a precondition or a side effect tells the two apart.
 */
class FidelityAttack3Test {

    private static final ClassLoader LOADER = FidelityAttack3Test.class.getClassLoader();

    /** As code that may only run inside a request (Spring's RequestContextHolder, a CDI scope...). */
    static volatile boolean insideRequest = true;
    static final AtomicInteger constructed = new AtomicInteger();

    static final class Preferences implements Serializable {
        private static final long serialVersionUID = 1L;
        String theme;

        Preferences() {
            if (!insideRequest) {
                throw new IllegalStateException("no current request");
            }
            constructed.incrementAndGet();
        }
    }

    @Test
    void aValueWrittenInsideARequestIsReadOutsideOneAsJavaSerializationReadsIt() throws Exception {
        AttributeCodec writer = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec reader = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        Preferences preferences = new Preferences();
        preferences.theme = "dark";
        byte[] stored = writer.encode(preferences);
        insideRequest = false; // the other node reads it from a background thread: expiry listener, Manager app, JMX
        try {
            assertThat(((Preferences) FidelityCorpus.javaRoundTrip(preferences, LOADER)).theme).isEqualTo("dark");
            assertThatCode(() -> reader.decode(stored))
                    .as("decoding where the no-arg constructor cannot run; Java serialization never runs it")
                    .doesNotThrowAnyException();
        } finally {
            insideRequest = true;
        }
    }

    @Test
    void readingAValueRunsNoConstructorOfASerializableClass() throws Exception {
        Preferences preferences = new Preferences();
        preferences.theme = "light";
        AttributeCodec writer = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec reader = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        byte[] stored = writer.encode(preferences);
        int before = constructed.get();
        FidelityCorpus.javaRoundTrip(preferences, LOADER);
        assertThat(constructed.get()).as("Java serialization runs no constructor").isEqualTo(before);
        reader.decode(stored);
        assertThat(constructed.get()).as("constructor calls while the session store reads the value")
                .isEqualTo(before);
    }

    /** Generic hierarchies, where Kryo 5's generics tracking has had its bugs. */
    static class Tree<T extends Comparable<T>> implements Serializable {
        private static final long serialVersionUID = 1L;
        T value;
        List<Tree<T>> children = new ArrayList<>();
        Map<T, List<T>> index = new TreeMap<>();
    }

    static final class NameTree extends Tree<String> {
        private static final long serialVersionUID = 1L;
        Tree<String> parent;
    }

    @Test
    void genericHierarchiesKeepWhatJavaKeeps() throws Exception {
        NameTree root = new NameTree();
        root.value = "root";
        NameTree child = new NameTree();
        child.value = "child";
        child.parent = root;
        root.children.add(child);
        root.index.put("root", List.of("child"));
        AttributeCodec writer = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec reader = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        Object store = reader.decode(writer.encode(root));
        assertThat(ObservableState.differences(FidelityCorpus.javaRoundTrip(root, LOADER), store)).isEmpty();
    }
}
