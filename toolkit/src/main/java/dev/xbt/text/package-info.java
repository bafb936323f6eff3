/**
 * CLIP's text side: the exact byte-level BPE tokenizer and a trainer for vocabularies it can use.
 *
 * <ul>
 *   <li>{@link dev.xbt.text.ClipTokenizer}: {@code fromMergesGz(path)} (OpenAI's
 *       {@code bpe_simple_vocab_16e6.txt.gz}, or a trained merges file, gzip or plain),
 *       {@code fromHuggingFace(vocabJson, mergesTxt)}, {@code fromMerges(list)}; {@code encode(text)} gives the
 *       content ids, {@code tokenize(texts[, contextLength])} the padded model input (start, content, end, 0s;
 *       truncated keeping the end token), {@code decode(ids)}; {@code startId()}, {@code endId()},
 *       {@code vocabSize()}.</li>
 *   <li>{@link dev.xbt.text.BpeTrainer}: {@code add(text)}, {@code train(vocabSize)}, {@code write(path, merges)}.</li>
 *   <li>{@link dev.xbt.text.ClipPreTokenizer}: the shared clean-up and pre-tokenizer.</li>
 *   <li>{@link dev.xbt.text.MergesFile}: read and write the merges format.</li>
 * </ul>
 * Failures of files and ids are {@link dev.xbt.text.TokenizerException}s with one-line messages.
 */
package dev.xbt.text;
