package dev.xbt.data.sources;

import org.apache.commons.text.StringEscapeUtils;
import org.xml.sax.Attributes;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.XMLReader;
import org.xml.sax.helpers.DefaultHandler;

import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The Dublin Core metadata of an SVG file: the RDF block that Inkscape and the Open Clip Art Library put in
 * {@code <metadata>}:
 * <pre>{@code
 * <cc:Work rdf:about="">
 *   <dc:title>bat</dc:title>
 *   <dc:description>...</dc:description>
 *   <dc:subject><rdf:Bag><rdf:li>mammal</rdf:li><rdf:li>bat</rdf:li></rdf:Bag></dc:subject>
 *   <dc:creator><cc:Agent><dc:title>Orlando Karam</dc:title></cc:Agent></dc:creator>
 * </cc:Work>
 * }</pre>
 * Read with the JDK's SAX parser, namespace-aware (elements are matched by namespace URI and local name, so any
 * prefix works), with secure processing on, external general and parameter entities off, the external DTD neither
 * loaded nor resolved (an entity resolver answers every external lookup with nothing), so parsing an SVG never
 * reads another file or the network; internal entities (Illustrator's {@code <!ENTITY ns_svg ...>}) still work,
 * within the JDK's expansion limits. Parsing stops at the end of the first {@code <metadata>} element, so the
 * drawing itself is not read.
 *
 * @param title       the work's {@code dc:title}, white space collapsed, or "" when there is none
 * @param description the work's {@code dc:description}, white space collapsed, or ""
 * @param subjects    the {@code dc:subject} keywords (each {@code rdf:li}, or the comma-separated parts of a plain
 *                    text subject), in file order, white space collapsed
 * @param agents      names of the work's creator, rights holder, publisher and contributors (each
 *                    {@code cc:Agent}'s {@code dc:title}), creator first
 */
record SvgMetadata(String title, String description, List<String> subjects, List<String> agents) {
    /** Dublin Core elements. */
    static final String DC = "http://purl.org/dc/elements/1.1/";
    /** RDF. */
    static final String RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
    private static final String SVG = "http://www.w3.org/2000/svg";

    SvgMetadata {
        subjects = List.copyOf(subjects);
        agents = List.copyOf(agents);
    }

    /** The creator's name (the first agent), or "". */
    String creator() {
        return agents.isEmpty() ? "" : agents.getFirst();
    }

    /** Reads the metadata of {@code file}; an unreadable or malformed file is an {@link IOException}. */
    static SvgMetadata read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Reads the metadata of an SVG document; {@code name} is what error messages call it. */
    static SvgMetadata read(InputStream in, String name) throws IOException {
        Handler h = new Handler();
        try {
            XMLReader reader = PARSERS.get().getXMLReader();
            reader.setContentHandler(h);
            reader.setErrorHandler(h);
            reader.setEntityResolver((publicId, systemId) -> new InputSource(new ByteArrayInputStream(new byte[0])));
            InputSource src = new InputSource(in);
            src.setSystemId(name);
            reader.parse(src);
        } catch (Stop done) {
            // the metadata is read
        } catch (SAXParseException e) {
            throw new IOException(name + ": malformed SVG (line " + e.getLineNumber() + ": " + e.getMessage() + ")", e);
        } catch (SAXException e) {
            throw new IOException(name + ": malformed SVG (" + e.getMessage() + ")", e);
        }
        return h.result();
    }

    private static final ThreadLocal<SAXParser> PARSERS = ThreadLocal.withInitial(SvgMetadata::newParser);

    /** A namespace-aware, non-validating SAX parser that never loads anything external. */
    static SAXParser newParser() {
        try {
            SAXParserFactory f = SAXParserFactory.newInstance();
            f.setNamespaceAware(true);
            f.setValidating(false);
            f.setXIncludeAware(false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            SAXParser p = f.newSAXParser();
            p.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            p.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            return p;
        } catch (ParserConfigurationException | SAXException e) {
            throw new IllegalStateException("this JDK's XML parser cannot be configured safely: " + e.getMessage(), e);
        }
    }

    /** Thrown to stop parsing once the metadata has been read. */
    private static final class Stop extends SAXException {
        Stop() {
            super("metadata read", null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    private static final class Handler extends DefaultHandler {
        /** The open elements as "uri local". */
        private final Deque<String[]> stack = new ArrayDeque<>();
        private final StringBuilder text = new StringBuilder();
        private String title;
        private String description;
        private final List<String> subjects = new ArrayList<>();
        private final List<String> agents = new ArrayList<>();
        private String creator;
        private boolean subjectHadItems;
        private int metadataDepth = -1;

        @Override
        public void startElement(String uri, String local, String qName, Attributes atts) {
            stack.push(new String[] {uri, local});
            text.setLength(0);
            if (metadataDepth < 0 && "metadata".equals(local) && (SVG.equals(uri) || uri.isEmpty())) {
                metadataDepth = stack.size();
            }
            if (DC.equals(uri) && "subject".equals(local)) subjectHadItems = false;
        }

        @Override
        public void characters(char[] ch, int start, int length) {
            text.append(ch, start, length);
        }

        @Override
        public void endElement(String uri, String local, String qName) throws SAXException {
            stack.pop();
            String[] parent = stack.peek();
            String value = clean(text.toString());
            if (DC.equals(uri) && parent != null) {
                boolean inWork = "Work".equals(parent[1]) || (RDF.equals(parent[0]) && "Description".equals(parent[1]));
                boolean inAgent = "Agent".equals(parent[1]);
                if (inWork) {
                    switch (local) {
                        case "title" -> {
                            if (title == null) title = value;
                        }
                        case "description" -> {
                            if (description == null) description = value;
                        }
                        case "subject" -> {
                            if (!subjectHadItems) {
                                for (String s : value.split(",")) if (!s.isBlank()) subjects.add(s.strip());
                            }
                        }
                        default -> { }
                    }
                } else if (inAgent && "title".equals(local) && !value.isEmpty()) {
                    // the agent's role is the element above cc:Agent: dc:creator, dc:rights, dc:publisher, ...
                    String role = roleOfAgent();
                    if ("creator".equals(role) && creator == null) creator = value;
                    if (!agents.contains(value)) agents.add(value);
                }
            } else if (RDF.equals(uri) && "li".equals(local) && inSubject()) {
                subjectHadItems = true;
                if (!value.isEmpty()) subjects.add(value);
            }
            text.setLength(0);
            if (metadataDepth > 0 && stack.size() < metadataDepth) throw new Stop();
        }

        /** The dc element that holds the cc:Agent now on top of the stack. */
        private String roleOfAgent() {
            var it = stack.iterator();
            if (!it.hasNext()) return "";
            it.next(); // cc:Agent
            if (!it.hasNext()) return "";
            String[] holder = it.next();
            return DC.equals(holder[0]) ? holder[1] : "";
        }

        private boolean inSubject() {
            for (String[] e : stack) if (DC.equals(e[0]) && "subject".equals(e[1])) return true;
            return false;
        }

        @Override
        public void warning(SAXParseException e) {
            // ignored: the metadata is still read
        }

        @Override
        public void error(SAXParseException e) {
            // recoverable (undeclared prefixes and the like): the metadata is still read
        }

        SvgMetadata result() {
            List<String> names = new ArrayList<>();
            if (creator != null) names.add(creator);
            for (String a : agents) if (!names.contains(a)) names.add(a);
            return new SvgMetadata(title == null ? "" : title, description == null ? "" : description, subjects, names);
        }
    }

    /**
     * Metadata text as it was meant: HTML entities that were escaped twice decoded ({@code "B &amp;amp; W"} arrives
     * from the parser as {@code "B &amp; W"} and becomes {@code "B & W"}), UTF-8 that was read as Latin-1 repaired
     * ({@code "LÃ©zard"} becomes {@code "Lézard"}), white space collapsed.
     */
    static String clean(String s) {
        String t = s;
        if (t.indexOf('&') >= 0) t = StringEscapeUtils.unescapeHtml4(t);
        if (t.indexOf('\u00c3') >= 0 || t.indexOf('\u00c2') >= 0 || t.indexOf('\u00e2') >= 0) t = repairMojibake(t);
        return collapse(t);
    }

    /** {@code s} decoded again as UTF-8 from its Latin-1 bytes, when that works; else {@code s}. */
    static String repairMojibake(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) > 0xFF) return s;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1))).toString();
        } catch (CharacterCodingException e) {
            return s;
        }
    }

    /** White space runs as one space, ends stripped. */
    static String collapse(String s) {
        return s.replaceAll("\\s+", " ").strip();
    }
}
