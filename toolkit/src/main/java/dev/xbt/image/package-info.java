/**
 * Pictures for CLIP: {@link dev.xbt.image.ImageLoader} reads PNG, JPEG, GIF and BMP files as 8-bit RGB
 * ({@link dev.xbt.image.RgbImage}), and {@link dev.xbt.image.ClipPreprocess} turns them into the normalised
 * {@code [N, 3, size, size]} float32 input of CLIP's image tower, byte for byte as OpenAI CLIP / OpenCLIP do with
 * PIL and torchvision (bicubic resize of the shortest side, centre crop, ToTensor, Normalize).
 *
 * <pre>{@code
 * ClipPreprocess pre = new ClipPreprocess();                     // 224 px, OpenAI mean/std
 * float[] one = pre.apply(ImageLoader.load(Path.of("cat.jpg")));  // [3, 224, 224], CHW
 * Tensor batch = pre.batchFilesTensor(paths);                     // [N, 3, 224, 224], decoded in parallel
 * }</pre>
 * Failures are {@link dev.xbt.image.ImageException}s with one-line messages naming the file.
 */
package dev.xbt.image;
