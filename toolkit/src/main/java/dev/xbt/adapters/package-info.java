/**
 * Parameter-efficient adapters for a frozen CLIP (XBT's stage 2): LoRA and prompt tokens, saved in
 * PEFT's folder layout, and folded into the base weights by {@code xbt merge}.
 *
 * <h2>API</h2>
 * {@link dev.xbt.adapters.Adapters#attach Adapters.attach(model, config, rng)} freezes the model and
 * hooks fresh adapters into it; {@code trainableParameters()} is what a
 * {@link dev.xbt.engine.ParameterSet} and an optimizer train; {@code train(true)} turns LoRA dropout on;
 * {@code save(dir)} / {@link dev.xbt.adapters.Adapters#load Adapters.load(model, dir)};
 * {@code merge()} folds LoRA into the weights; {@code detach()} removes everything.
 * {@link dev.xbt.adapters.AdapterConfig#builder()} takes targets and layer ranges as names or as text
 * settings ({@code "q_proj,v_proj"}, {@code "all"}, {@code "6:12"}, {@code "6:"}) for config files;
 * {@code summary()} is a one-line description for logs.
 *
 * <h2>LoRA</h2>
 * y = W·x + b + (alpha/r)·B·A·dropout(x), A [r, in] uniform(±1/√in), B [out, r] zero, so a fresh
 * adapter is the identity. Targets, per tower and optionally per layer range: {@code q_proj},
 * {@code k_proj}, {@code v_proj} (the three row blocks [0, W), [W, 2W), [2W, 3W) of the fused
 * {@code attn.in_proj_weight}), {@code out_proj}, {@code c_fc}, {@code c_proj}. Merging adds
 * (alpha/r)·B·A, summed in float64, to those rows of the weight, rounding once.
 *
 * <h2>Prompt tokens</h2>
 * <ul>
 *   <li>Visual prompts (VPT): N tokens [N, W] inserted after the class token, after the positional
 *       embedding (they have no position) and before {@code ln_pre}. Shallow: at the input only. Deep:
 *       in addition, fresh tokens replace those N positions at the input of every later block.</li>
 *   <li>Text context (CoOp): M vectors [M, W] after the start token. The context length T and the
 *       positional table stay fixed, so the caption gives up M positions: each row is cut to T − M
 *       tokens keeping its end token (the same as tokenizing with context T − M), the context goes in
 *       at positions 1..M, and pooling follows the end token, which moved up by M. 1 ≤ M ≤ T − 2.
 *       Callers tokenize with the model's context length as usual.</li>
 * </ul>
 * Prompt tokens lengthen the input sequence, so they cannot be folded into weights: {@code xbt merge}
 * refuses an adapter that has them (use it unmerged: {@code xbt encode --adapter DIR}).
 *
 * <h2>Folder layout</h2>
 * {@code adapter_model.safetensors} (F32, metadata {@code format = pt}):
 * <table>
 *   <caption>tensor names</caption>
 *   <tr><th>name</th><th>shape</th><th>what</th></tr>
 *   <tr><td>{@code base_model.model.<module>.lora_A.weight}</td><td>[r, in]</td><td>LoRA A, e.g. module
 *       {@code visual.transformer.resblocks.3.attn.q_proj} or {@code transformer.resblocks.0.mlp.c_fc}
 *       (the text tower's modules are at the top level, as in OpenCLIP)</td></tr>
 *   <tr><td>{@code base_model.model.<module>.lora_B.weight}</td><td>[out, r]</td><td>LoRA B</td></tr>
 *   <tr><td>{@code visual.prompt_embeddings}</td><td>[N, W<sub>visual</sub>]</td><td>visual prompts at the
 *       input</td></tr>
 *   <tr><td>{@code visual.transformer.resblocks.<i>.prompt_embeddings}</td><td>[N, W<sub>visual</sub>]</td>
 *       <td>deep prompts replacing the prompt positions at the input of block i (i ≥ 1)</td></tr>
 *   <tr><td>{@code prompt_embeddings}</td><td>[M, W<sub>text</sub>]</td><td>text context tokens (PEFT's
 *       name for prompt-tuning vectors, at the text tower's root)</td></tr>
 * </table>
 * {@code adapter_config.json}, PEFT's fields: {@code peft_type} ({@code LORA}, or {@code PROMPT_TUNING}
 * for prompts alone), {@code task_type} (null), {@code base_model_name_or_path} (the base contract's
 * model id), {@code revision}, {@code inference_mode}; with LoRA {@code r}, {@code lora_alpha},
 * {@code lora_dropout}, {@code target_modules} (the full name of every adapted module, which PEFT
 * matches exactly), {@code bias} ("none"), {@code fan_in_fan_out}, {@code init_lora_weights},
 * {@code use_rslora}, {@code modules_to_save}; without LoRA {@code num_virtual_tokens} (text context
 * tokens). Ours, which loading reads: {@code xbt_format} (1), {@code xbt_lora} ({@code {"visual":
 * {"targets": [...], "layers": [first, end or null]}, "text": {...}}} or null), {@code xbt_prompts}
 * ({@code visual_tokens}, {@code visual_deep}, {@code text_context_tokens}), {@code xbt_base_contract}
 * (the base's {@link dev.xbt.weights.ModelContract} or null), {@code xbt_base_config} (the base's CLIP
 * config) and {@code xbt_weights_sha256} (of adapter_model.safetensors, so a folder mixing two saves
 * is refused).
 *
 * <p>PEFT's q/k/v targets do not exist as modules in OpenCLIP's PyTorch model (its attention is
 * {@code nn.MultiheadAttention} with a fused in-projection), so PyTorch PEFT cannot load q/k/v LoRA
 * from these folders as they are; out_proj, c_fc and c_proj use OpenCLIP's module names.
 */
package dev.xbt.adapters;
