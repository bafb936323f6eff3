/**
 * Importers for data sets that Debian packages ship, each writing the project's manifest format
 * ({@link dev.xbt.data.Manifest}); they are listed in {@link dev.xbt.data.DataSources}.
 * <ul>
 *   <li>{@link dev.xbt.data.sources.OpenClipartSource} ({@code openclipart}): public-domain clip art from
 *       {@code openclipart-png}, captions from the RDF metadata of {@code openclipart-svg};</li>
 *   <li>{@link dev.xbt.data.sources.TuxPaintSource} ({@code tuxpaint}): Tux Paint's stamps and their English
 *       descriptions, from {@code tuxpaint-stamps-default};</li>
 *   <li>{@link dev.xbt.data.sources.FashionMnistSource} ({@code fashion-mnist}): Fashion-MNIST with captions from
 *       prompt templates, from {@code dataset-fashion-mnist};</li>
 *   <li>{@link dev.xbt.data.sources.WordNetSource} ({@code wordnet}, a {@link dev.xbt.data.TextSource}): WordNet
 *       glosses as "lemma: definition" sentences, from {@code wordnet-base}.</li>
 * </ul>
 * Each takes the file system root its package's files are under ({@code /} by default; a fake tree in tests).
 * When a package is missing, {@code prepare} (or {@code texts}) throws a one-line
 * {@link dev.xbt.data.DataSourceException} ending in the command that installs it,
 * {@code sudo apt-get install PACKAGE}. Pictures that do not decode, and items without a usable caption, are
 * skipped and counted in the import report with their reasons; they never stop an import.
 */
package dev.xbt.data.sources;
