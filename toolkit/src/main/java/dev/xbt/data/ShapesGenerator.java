package dev.xbt.data;

import dev.xbt.engine.Rng;
import dev.xbt.image.RgbImage;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * {@code shapes}, the embedded image–caption corpus: pictures of 1 to 3 coloured shapes drawn from a seed, each with
 * 3 to 5 differently worded captions. It needs no download, has any size, and makes a real retrieval task: the
 * captions of different pictures share words, so matching a caption to its picture needs the colours, kinds,
 * sizes, positions, relations and background together, not one keyword.
 *
 * <p><b>A scene</b> ({@link #scene}) is a background and 1–3 shapes (30% one, 40% two, 30% three) in distinct cells
 * of a 3×3 grid over the {@value #SIZE}×{@value #SIZE} picture:
 * <ul>
 *   <li>kinds ({@link Kind}): circle, square, triangle, star, cross, ring, diamond, hexagon, heart, crescent;</li>
 *   <li>colours ({@link Colour}): red, orange, yellow, green, cyan, blue, purple, pink, brown, black, white, grey —
 *       each always called by this one word; a shape's colour always contrasts with the background's colours;
 *       no two shapes of a scene have the same colour and kind;</li>
 *   <li>sizes: small ("small"/"little") or large ("large"/"big");</li>
 *   <li>positions: the cell, called top left, top, top right, left, centre, right, bottom left, bottom, bottom right
 *       (with synonyms such as "upper left", "in the middle", "at the bottom");</li>
 *   <li>relations between two shapes from their cells: above, below, to the left of, to the right of;</li>
 *   <li>backgrounds ({@link BackgroundKind}): plain, two-tone gradient, stripes, or light noise, in the colours of
 *       {@link BackgroundColour} (white, grey, black, beige, pale blue, pale green, pale pink, navy).</li>
 * </ul>
 * <b>Captions</b> ({@link #captions}) come from templates with synonyms and a varying order of the shapes; every
 * caption names the colour and kind of every shape of its picture (so no caption is wrong), most also their sizes
 * and positions or a relation and the background.
 *
 * <p><b>Determinism.</b> Picture {@code i} of seed {@code s} depends on {@code (s, i)} alone (its own {@link Rng}),
 * so pictures can be made in parallel, in any order, and a corpus of {@code n} pictures is the first {@code n} of
 * any larger one. Drawing uses Java2D with antialiasing, whose output is the same for the same JDK; the PNG bytes
 * come from {@link PngEncoder}. Ids are {@code shapes-000000}, {@code shapes-000001}, ...; splits come from the ids
 * ({@link Splits#assign}), so they do not depend on the seed.
 *
 * <p>Horizontal flips turn "left" into "right": do not flip these pictures while training (see {@link Augmentation}).
 */
public final class ShapesGenerator {
    /** Pictures made by {@code xbt data prepare shapes} without {@code --count}. */
    public static final int DEFAULT_COUNT = 6000;
    /**
     * Deflate level of the PNG files, rows unfiltered: for these flat antialiased drawings that is some 4 times
     * faster than adaptive filtering at level 6, and the files are smaller (about 1.8 kB).
     */
    static final int PNG_LEVEL = 1;
    /** The pictures' width and height in pixels. */
    public static final int SIZE = 64;

    /** The shapes' kinds; {@link #word()} is the one word captions use. */
    public enum Kind {
        CIRCLE, SQUARE, TRIANGLE, STAR, CROSS, RING, DIAMOND, HEXAGON, HEART, CRESCENT;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        public String plural() {
            return this == CROSS ? "crosses" : word() + "s";
        }
    }

    /** The shapes' colours; {@link #word()} is the one word captions use. */
    public enum Colour {
        RED(0xE02020), ORANGE(0xF08020), YELLOW(0xF0D020), GREEN(0x30A030), CYAN(0x20C0D0), BLUE(0x2050D0),
        PURPLE(0x8030B0), PINK(0xF070B0), BROWN(0x8B5A2B), BLACK(0x141414), WHITE(0xFAFAFA), GREY(0x808080);

        public final int rgb;

        Colour(int rgb) {
            this.rgb = rgb;
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The backgrounds' colours; {@link #words()} is how captions call them. */
    public enum BackgroundColour {
        WHITE("white", 0xFFFFFF), GREY("grey", 0xB4B4B4), BLACK("black", 0x000000), BEIGE("beige", 0xE8DCC0),
        PALE_BLUE("pale blue", 0xC8DCF0), PALE_GREEN("pale green", 0xC8EBC8), PALE_PINK("pale pink", 0xF5D5E0),
        NAVY("navy", 0x202850);

        private final String words;
        public final int rgb;

        BackgroundColour(String words, int rgb) {
            this.words = words;
            this.rgb = rgb;
        }

        public String words() {
            return words;
        }
    }

    public enum BackgroundKind { PLAIN, GRADIENT, STRIPES, NOISE }

    public enum Size {
        SMALL, LARGE;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * A background. {@code second} is used by gradients and stripes (null otherwise); {@code orientation} 0, 1, 2
     * is vertical, horizontal, diagonal (gradients: 0 top to bottom, 1 left to right); {@code stripe} the stripes'
     * width in pixels; {@code noiseSeed} the noise's seed.
     */
    public record Background(BackgroundKind kind, BackgroundColour first, BackgroundColour second, int orientation,
                             int stripe, long noiseSeed) {}

    /**
     * One shape: kind, colour, size, grid cell ({@code col} 0..2 left to right, {@code row} 0..2 top to bottom), and
     * where it is drawn: centre ({@code cx}, {@code cy}) and radius in pixels, rotation in radians.
     */
    public record Item(Kind kind, Colour colour, Size size, int col, int row, double cx, double cy, double radius,
                       double angle) {
        /** "a small red circle". */
        public String describe() {
            return article(size.word() + " " + colour.word() + " " + kind.word());
        }
    }

    /** A picture's content: the background and the shapes, in drawing order. */
    public record Scene(Background background, List<Item> items) {
        public Scene {
            items = List.copyOf(items);
        }

        /** A plain description: "a small red circle (top left), a large blue square (centre); plain white". */
        public String describe() {
            StringBuilder b = new StringBuilder();
            for (Item it : items) {
                if (!b.isEmpty()) b.append(", ");
                b.append(it.describe()).append(" (").append(SHORT[it.row * 3 + it.col][0]).append(')');
            }
            b.append("; ").append(background.kind().name().toLowerCase(Locale.ROOT)).append(' ')
                    .append(background.first().words());
            if (background.second() != null) b.append(" and ").append(background.second().words());
            return b.toString();
        }
    }

    /** Picture {@code index}: id, scene, captions, the picture and its PNG file. */
    public record Sample(int index, String id, Scene scene, List<String> captions, RgbImage image, byte[] png) {}

    private final long seed;

    public ShapesGenerator(long seed) {
        this.seed = seed;
    }

    public long seed() {
        return seed;
    }

    /** {@code "shapes-000042"}. */
    public static String id(int index) {
        return String.format(Locale.ROOT, "shapes-%06d", index);
    }

    /** Picture {@code index}: its scene, captions, pixels and PNG bytes. */
    public Sample sample(int index) {
        Rng rng = rngFor(index);
        Scene scene = scene(rng);
        List<String> captions = captions(scene, rng);
        RgbImage image = render(scene);
        return new Sample(index, id(index), scene, captions, image, PngEncoder.encode(image, PNG_LEVEL, false));
    }

    /** The scene of picture {@code index}. */
    public Scene scene(int index) {
        return scene(rngFor(index));
    }

    private Rng rngFor(int index) {
        if (index < 0) throw new IllegalArgumentException("index must be non-negative, got " + index);
        return new Rng(Rng.mix(seed ^ Rng.mix(0x5ADE5L + index * 0x9E3779B97F4A7C15L)));
    }

    // ---- scenes -------------------------------------------------------------------------------------

    private static final int MIN_CONTRAST = 110; // Euclidean RGB distance between a shape and each background colour

    static Scene scene(Rng rng) {
        BackgroundKind bk = BackgroundKind.values()[rng.nextInt(BackgroundKind.values().length)];
        BackgroundColour[] bcs = BackgroundColour.values();
        BackgroundColour first = bcs[rng.nextInt(bcs.length)];
        BackgroundColour second = null;
        if (bk == BackgroundKind.GRADIENT || bk == BackgroundKind.STRIPES) {
            do {
                second = bcs[rng.nextInt(bcs.length)];
            } while (second == first);
        }
        int orientation = rng.nextInt(bk == BackgroundKind.GRADIENT ? 2 : 3);
        int stripe = 3 + rng.nextInt(4);
        long noiseSeed = rng.nextLong();
        Background bg = new Background(bk, first, second, orientation, stripe, noiseSeed);

        List<Colour> allowed = new ArrayList<>();
        for (Colour c : Colour.values()) {
            if (distance(c.rgb, first.rgb) >= MIN_CONTRAST && (second == null || distance(c.rgb, second.rgb) >= MIN_CONTRAST)) {
                allowed.add(c);
            }
        }
        float u = rng.nextFloat();
        int n = u < 0.3f ? 1 : u < 0.7f ? 2 : 3;
        int[] cells = {0, 1, 2, 3, 4, 5, 6, 7, 8};
        rng.shuffle(cells);
        List<Item> items = new ArrayList<>();
        double cell = SIZE / 3.0;
        for (int k = 0; k < n; k++) {
            Kind kind;
            Colour colour;
            do {
                kind = Kind.values()[rng.nextInt(Kind.values().length)];
                colour = allowed.get(rng.nextInt(allowed.size()));
            } while (same(items, kind, colour));
            Size size = rng.nextInt(2) == 0 ? Size.SMALL : Size.LARGE;
            int col = cells[k] % 3;
            int row = cells[k] / 3;
            double radius = size == Size.SMALL ? 5.0 + rng.nextDouble() * 1.5 : 8.5 + rng.nextDouble() * 1.5;
            double slack = cell / 2 - radius - 0.5;
            double cx = (col + 0.5) * cell + (rng.nextDouble() * 2 - 1) * slack;
            double cy = (row + 0.5) * cell + (rng.nextDouble() * 2 - 1) * slack;
            double angle = Math.toRadians((rng.nextDouble() * 2 - 1) * (kind == Kind.SQUARE || kind == Kind.DIAMOND ? 8 : 15));
            items.add(new Item(kind, colour, size, col, row, cx, cy, radius, angle));
        }
        return new Scene(bg, items);
    }

    private static boolean same(List<Item> items, Kind kind, Colour colour) {
        for (Item it : items) if (it.kind == kind && it.colour == colour) return true;
        return false;
    }

    private static double distance(int a, int b) {
        int dr = (a >> 16 & 0xFF) - (b >> 16 & 0xFF);
        int dg = (a >> 8 & 0xFF) - (b >> 8 & 0xFF);
        int db = (a & 0xFF) - (b & 0xFF);
        return Math.sqrt(dr * dr + dg * dg + db * db);
    }

    // ---- drawing ------------------------------------------------------------------------------------

    /** Draws {@code scene} at {@value #SIZE}×{@value #SIZE}, antialiased. */
    public static RgbImage render(Scene scene) {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            Background bg = scene.background();
            Color c1 = new Color(bg.first().rgb);
            g.setColor(c1);
            g.fillRect(0, 0, SIZE, SIZE);
            switch (bg.kind()) {
                case GRADIENT -> {
                    Color c2 = new Color(bg.second().rgb);
                    g.setPaint(bg.orientation() == 0 ? new GradientPaint(0, 0, c1, 0, SIZE, c2)
                            : new GradientPaint(0, 0, c1, SIZE, 0, c2));
                    g.fillRect(0, 0, SIZE, SIZE);
                }
                case STRIPES -> {
                    g.setColor(new Color(bg.second().rgb));
                    int w = bg.stripe();
                    AffineTransform saved = g.getTransform();
                    if (bg.orientation() == 2) g.rotate(Math.PI / 4, SIZE / 2.0, SIZE / 2.0);
                    for (int p = -SIZE; p < 2 * SIZE; p += 2 * w) {
                        g.fill(bg.orientation() == 1 ? new Rectangle2D.Double(-SIZE, p, 3 * SIZE, w)
                                : new Rectangle2D.Double(p, -SIZE, w, 3 * SIZE));
                    }
                    g.setTransform(saved);
                }
                case NOISE -> addNoise(img, bg.noiseSeed());
                default -> { }
            }
            g.setStroke(new BasicStroke(1f));
            for (Item it : scene.items()) {
                g.setColor(new Color(it.colour().rgb));
                g.fill(outline(it));
            }
        } finally {
            g.dispose();
        }
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        byte[] rgb = new byte[SIZE * SIZE * 3];
        for (int i = 0; i < px.length; i++) {
            rgb[3 * i] = (byte) (px[i] >> 16);
            rgb[3 * i + 1] = (byte) (px[i] >> 8);
            rgb[3 * i + 2] = (byte) px[i];
        }
        return new RgbImage(SIZE, SIZE, rgb);
    }

    private static void addNoise(BufferedImage img, long noiseSeed) {
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        Rng r = new Rng(noiseSeed);
        for (int i = 0; i < px.length; i++) {
            int d = r.nextInt(33) - 16; // light grey-level noise, the same on the three channels
            int p = px[i];
            px[i] = clamp((p >> 16 & 0xFF) + d) << 16 | clamp((p >> 8 & 0xFF) + d) << 8 | clamp((p & 0xFF) + d);
        }
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /** The outline of a shape, in picture coordinates. */
    static Shape outline(Item it) {
        double r = it.radius();
        Shape unit = switch (it.kind()) {
            case CIRCLE -> new Ellipse2D.Double(-r, -r, 2 * r, 2 * r);
            case RING -> {
                double q = r * 0.55;
                Path2D.Double p = new Path2D.Double(Path2D.WIND_EVEN_ODD);
                p.append(new Ellipse2D.Double(-r, -r, 2 * r, 2 * r), false);
                p.append(new Ellipse2D.Double(-q, -q, 2 * q, 2 * q), false);
                yield p;
            }
            case SQUARE -> new Rectangle2D.Double(-0.82 * r, -0.82 * r, 1.64 * r, 1.64 * r);
            case DIAMOND -> polygon(4, r * 1.08, Math.PI / 2, 1.0);
            case TRIANGLE -> {
                Path2D p = (Path2D) polygon(3, r * 1.12, -Math.PI / 2, 1.0);
                yield AffineTransform.getTranslateInstance(0, r * 0.2).createTransformedShape(p);
            }
            case HEXAGON -> polygon(6, r, 0, 1.0);
            case STAR -> polygon(5, r * 1.12, -Math.PI / 2, 0.45);
            case CROSS -> {
                double w = r * 0.33;
                double[] xs = {-w, w, w, r, r, w, w, -w, -w, -r, -r, -w};
                double[] ys = {-r, -r, -w, -w, w, w, r, r, w, w, -w, -w};
                Path2D.Double p = new Path2D.Double();
                p.moveTo(xs[0], ys[0]);
                for (int k = 1; k < xs.length; k++) p.lineTo(xs[k], ys[k]);
                p.closePath();
                yield p;
            }
            case HEART -> heart(r);
            case CRESCENT -> {
                Area a = new Area(new Ellipse2D.Double(-r, -r, 2 * r, 2 * r));
                double q = r * 0.85;
                a.subtract(new Area(new Ellipse2D.Double(-q + r * 0.5, -q - r * 0.15, 2 * q, 2 * q)));
                yield a;
            }
        };
        AffineTransform t = AffineTransform.getTranslateInstance(it.cx(), it.cy());
        t.rotate(it.angle());
        return t.createTransformedShape(unit);
    }

    /** A regular polygon with {@code n} corners (a star with {@code n} points when {@code inner < 1}). */
    private static Shape polygon(int n, double r, double start, double inner) {
        Path2D.Double p = new Path2D.Double();
        int corners = inner < 1 ? 2 * n : n;
        for (int k = 0; k < corners; k++) {
            double a = start + 2 * Math.PI * k / corners;
            double rr = inner < 1 && k % 2 == 1 ? r * inner : r;
            double x = rr * Math.cos(a);
            double y = rr * Math.sin(a);
            if (k == 0) p.moveTo(x, y);
            else p.lineTo(x, y);
        }
        p.closePath();
        return p;
    }

    private static Shape heart(double r) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(0, r * 0.95);
        p.curveTo(-r * 0.25, r * 0.6, -r * 1.05, r * 0.15, -r * 1.0, -r * 0.35);
        p.curveTo(-r * 0.95, -r * 0.95, -r * 0.15, -r * 1.05, 0, -r * 0.45);
        p.curveTo(r * 0.15, -r * 1.05, r * 0.95, -r * 0.95, r * 1.0, -r * 0.35);
        p.curveTo(r * 1.05, r * 0.15, r * 0.25, r * 0.6, 0, r * 0.95);
        p.closePath();
        return p;
    }

    // ---- captions -----------------------------------------------------------------------------------

    /** Cell (row * 3 + col) -> location phrases with a preposition ("in the top left"). */
    private static final String[][] WHERE = {
            {"in the top left", "in the upper left", "in the top left corner"},
            {"at the top", "at the top centre", "in the upper middle"},
            {"in the top right", "in the upper right", "in the top right corner"},
            {"on the left", "at the middle left", "on the left side"},
            {"in the centre", "in the middle", "right in the centre"},
            {"on the right", "at the middle right", "on the right side"},
            {"in the bottom left", "in the lower left", "in the bottom left corner"},
            {"at the bottom", "at the bottom centre", "in the lower middle"},
            {"in the bottom right", "in the lower right", "in the bottom right corner"}};
    /** Cell -> short location words ("top left"). */
    private static final String[][] SHORT = {
            {"top left", "upper left"}, {"top", "top centre"}, {"top right", "upper right"},
            {"left", "middle left"}, {"centre", "middle"}, {"right", "middle right"},
            {"bottom left", "lower left"}, {"bottom", "bottom centre"}, {"bottom right", "lower right"}};

    private static String pick(Rng rng, String... options) {
        return options[rng.nextInt(options.length)];
    }

    private static String where(Item it, Rng rng) {
        return pick(rng, WHERE[it.row * 3 + it.col]);
    }

    private static String shortWhere(Item it, Rng rng) {
        return pick(rng, SHORT[it.row * 3 + it.col]);
    }

    private static String sizeWord(Item it, Rng rng) {
        return it.size() == Size.SMALL ? pick(rng, "small", "small", "little") : pick(rng, "large", "large", "big");
    }

    /** "a small red circle" (size word varies), or "a red circle" without the size. */
    private static String np(Item it, Rng rng, boolean withSize) {
        return article((withSize ? sizeWord(it, rng) + " " : "") + it.colour().word() + " " + it.kind().word());
    }

    /** "a " or "an " before {@code words}. */
    private static String article(String words) {
        return ("aeiou".indexOf(words.charAt(0)) >= 0 ? "an " : "a ") + words;
    }

    /** Relations of {@code a} to {@code b} that are true: "above", "to the left of", ... */
    private static List<String> relations(Item a, Item b) {
        List<String> out = new ArrayList<>(2);
        if (a.row < b.row) out.add("above");
        if (a.row > b.row) out.add("below");
        if (a.col < b.col) out.add("to the left of");
        if (a.col > b.col) out.add("to the right of");
        return out;
    }

    private static String relation(Item a, Item b, Rng rng) {
        List<String> rs = relations(a, b);
        if (rs.size() == 2 && rng.nextInt(3) == 0) return rs.get(0) + " and " + rs.get(1);
        String r = rs.get(rng.nextInt(rs.size()));
        return switch (r) {
            case "above" -> pick(rng, "above", "above", "over");
            case "below" -> pick(rng, "below", "below", "under", "beneath");
            case "to the left of" -> pick(rng, "to the left of", "left of");
            default -> pick(rng, "to the right of", "right of");
        };
    }

    /** The background as a noun phrase: "a plain grey background", "white and navy stripes". */
    private static String background(Background bg, Rng rng) {
        String c1 = bg.first().words();
        String c2 = bg.second() == null ? null : bg.second().words();
        return switch (bg.kind()) {
            case PLAIN -> pick(rng, article(c1 + " background"), "a plain " + c1 + " background");
            case GRADIENT -> pick(rng, article(c1 + " to " + c2 + " gradient background"),
                    "a background fading from " + c1 + " to " + c2);
            case STRIPES -> pick(rng, "a striped " + c1 + " and " + c2 + " background", c1 + " and " + c2 + " stripes");
            case NOISE -> pick(rng, "a noisy " + c1 + " background", "a speckled " + c1 + " background");
        };
    }

    /** The background in a few words: "grey", "white to navy gradient". */
    private static String backgroundShort(Background bg, Rng rng) {
        String c1 = bg.first().words();
        String c2 = bg.second() == null ? null : bg.second().words();
        return switch (bg.kind()) {
            case PLAIN -> c1 + " background";
            case GRADIENT -> c1 + " to " + c2 + " gradient";
            case STRIPES -> c1 + " and " + c2 + " stripes";
            case NOISE -> pick(rng, "noisy ", "speckled ") + c1 + " background";
        };
    }

    private static String numberWord(int n) {
        return switch (n) {
            case 1 -> "one";
            case 2 -> "two";
            case 3 -> "three";
            default -> Integer.toString(n);
        };
    }

    private static <T> List<T> shuffled(List<T> items, Rng rng) {
        int[] order = new int[items.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        rng.shuffle(order);
        List<T> out = new ArrayList<>(order.length);
        for (int i : order) out.add(items.get(i));
        return out;
    }

    private static String listWords(List<String> parts) {
        if (parts.size() == 1) return parts.getFirst();
        return String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.getLast();
    }

    /** 3 to 5 distinct captions of {@code scene}, worded from {@code rng}. */
    public static List<String> captions(Scene scene, Rng rng) {
        List<Item> items = scene.items();
        Background bg = scene.background();
        List<Function<Rng, String>> templates = new ArrayList<>();
        if (items.size() == 1) {
            Item o = items.getFirst();
            templates.add(r -> np(o, r, true) + " " + where(o, r) + " on " + background(bg, r));
            templates.add(r -> o.colour().word() + " " + o.kind().word() + ", " + sizeWord(o, r) + ", " + shortWhere(o, r));
            templates.add(r -> "there is " + np(o, r, true) + " " + where(o, r) + pick(r, "", " of the picture", " of the image"));
            templates.add(r -> background(bg, r) + " with " + np(o, r, true) + " " + where(o, r));
            templates.add(r -> "a picture of one " + o.colour().word() + " " + o.kind().word() + " ("
                    + sizeWord(o, r) + ") " + where(o, r) + ", " + backgroundShort(bg, r));
            templates.add(r -> "a single " + sizeWord(o, r) + " " + o.colour().word() + " " + o.kind().word()
                    + " on " + background(bg, r));
        } else {
            int n = items.size();
            templates.add(r -> {
                List<Item> s = shuffled(items, r);
                String c = np(s.get(0), r, true) + " " + relation(s.get(0), s.get(1), r) + " " + np(s.get(1), r, true);
                if (n == 3) c += ", and " + np(s.get(2), r, true) + " " + where(s.get(2), r);
                return c + " on " + background(bg, r);
            });
            templates.add(r -> {
                List<String> parts = new ArrayList<>();
                for (Item it : shuffled(items, r)) parts.add(it.colour().word() + " " + it.kind().word() + " (" + shortWhere(it, r) + ")");
                return String.join(", ", parts) + "; " + backgroundShort(bg, r);
            });
            templates.add(r -> {
                List<String> parts = new ArrayList<>();
                for (Item it : shuffled(items, r)) parts.add(np(it, r, true) + " " + where(it, r));
                return numberWord(n) + " shapes on " + background(bg, r) + ": " + listWords(parts);
            });
            templates.add(r -> {
                List<Item> s = shuffled(items, r);
                String c = "there is " + np(s.get(0), r, r.nextInt(2) == 0) + " " + relation(s.get(0), s.get(1), r)
                        + " " + np(s.get(1), r, r.nextInt(2) == 0);
                if (n == 3) {
                    Item t = s.get(r.nextInt(2));
                    c += ", and " + np(s.get(2), r, r.nextInt(2) == 0) + " " + relation(s.get(2), t, r) + " the "
                            + t.colour().word() + " " + t.kind().word();
                }
                return c;
            });
            templates.add(r -> {
                List<Item> s = shuffled(items, r);
                String c = np(s.get(1), r, true) + " with " + np(s.get(0), r, true) + " " + relation(s.get(0), s.get(1), r) + " it";
                if (n == 3) c += ", plus " + np(s.get(2), r, true) + " " + where(s.get(2), r);
                return c;
            });
            templates.add(r -> {
                List<String> parts = new ArrayList<>();
                for (Item it : shuffled(items, r)) parts.add(sizeWord(it, r) + " " + it.colour().word() + " " + it.kind().word());
                return numberWord(n) + " shapes, " + listWords(parts) + ", on " + background(bg, r);
            });
        }
        int want = 3 + rng.nextInt(3);
        List<Function<Rng, String>> order = shuffled(templates, rng);
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (int i = 0; out.size() < want && i < 4 * order.size(); i++) out.add(order.get(i % order.size()).apply(rng));
        return List.copyOf(out);
    }
}
