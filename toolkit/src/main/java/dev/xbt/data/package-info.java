/**
 * Data sets: one on-disk format for every image–caption corpus, the importers that make it, and the streaming
 * loader that feeds training.
 * <ul>
 *   <li>{@link dev.xbt.data.Manifest}: a folder with {@code manifest.jsonl} (one image a line: id, image path,
 *       captions, split) read with line-numbered errors; {@link dev.xbt.data.ManifestWriter} writes one atomically
 *       with an {@code import-report.json}; {@link dev.xbt.data.Splits} assigns missing splits 80/10/10 by a hash of
 *       the id.</li>
 *   <li>{@link dev.xbt.data.DataSource}: the importer SPI; {@link dev.xbt.data.DataSources} lists them
 *       ({@code shapes}, {@code folder:DIR}, {@code karpathy:FILE}, and the Debian-package sources).</li>
 *   <li>{@link dev.xbt.data.TextCorpus}: deduplicated captions plus extra {@link dev.xbt.data.TextSource}s.</li>
 * </ul>
 */
package dev.xbt.data;
