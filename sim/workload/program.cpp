#include "workload/program.h"

namespace stepsim {

bool is_communication(OpKind k) { return k >= OpKind::all_reduce; }

Stream stream_of_group(Group g) {
  switch (g) {
    case Group::tp: return Stream::tp;
    case Group::dp:
    case Group::dp_shard:
    case Group::dp_replicate: return Stream::dp;
    case Group::cp: return Stream::cp;
    case Group::ep: return Stream::ep;
    case Group::pp_next:
    case Group::pp_prev: return Stream::pp;
    case Group::none: return Stream::compute;
  }
  return Stream::compute;
}

std::string to_string(Stream s) {
  static const char* names[] = {"compute", "comm-tp", "comm-dp", "comm-pp", "comm-cp", "comm-ep"};
  return names[static_cast<int>(s)];
}

std::string to_string(Phase p) {
  static const char* names[] = {"forward", "backward", "recompute", "optimizer"};
  return names[static_cast<int>(p)];
}

std::string to_string(OpKind k) {
  static const char* names[] = {"embedding", "norm",        "qkv_proj",   "rope",      "attention",
                                "out_proj",  "residual",    "mlp_gate",   "mlp_up",    "activation",
                                "mlp_down",  "router",      "expert_mlp", "lm_head",   "loss",
                                "optimizer_step", "dequantize", "all_reduce", "reduce_scatter", "all_gather",
                                "all_to_all", "broadcast", "send",       "recv"};
  return names[static_cast<int>(k)];
}

std::string to_string(Group g) {
  static const char* names[] = {"none", "tp", "dp", "dp_shard", "dp_replicate", "cp", "ep", "pp_next", "pp_prev"};
  return names[static_cast<int>(g)];
}

std::string to_string(MemCategory c) {
  static const char* names[] = {"weights",  "gradients",        "optimizer", "activations", "gathered_parameters",
                                "gradient_buffers", "logits", "transient", "comm_buffers", "framework"};
  return names[static_cast<int>(c)];
}

}  // namespace stepsim
