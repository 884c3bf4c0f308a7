#include "podperf/io/models.hpp"
#include "podperf/io/suggest.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "podperf/io/toml_fields.hpp"

namespace fs = std::filesystem;

namespace podperf {

namespace {
using io::FieldType;
using T = FieldType;

io::FileSchema model_schema() {
  return {"model",
          {
              {"", "id", T::text, true, ""},
              {"", "name", T::text, true, ""},
              {"", "notes", T::text, false, ""},
              {"arch", "attention", T::choice, true, "", 0, {"gqa", "mha", "mla", "sparse_mla", "sliding", "linear"}},
              {"arch", "layers", T::count, true, "layers", 1000},
              {"arch", "dense_layers", T::nonneg_count, false, "leading dense-FFN layers", 1000},
              {"arch", "hidden", T::count, true, "model width", 1e5},
              {"arch", "vocab", T::count, true, "tokens", 1e7},
              {"arch", "heads", T::count, true, "query heads", 1024},
              {"arch", "kv_heads", T::count, false, "KV heads", 1024},
              {"arch", "head_dim", T::count, false, "per head", 1024},
              {"arch", "q_lora_rank", T::nonneg_count, false, "MLA query rank", 1e5},
              {"arch", "kv_lora_rank", T::count, false, "MLA latent rank", 1e5},
              {"arch", "qk_nope_dim", T::count, false, "per head", 1024},
              {"arch", "qk_rope_dim", T::count, false, "per head", 1024},
              {"arch", "v_head_dim", T::count, false, "per head", 1024},
              {"arch", "ffn", T::count, false, "dense FFN width", 1e6},
              {"arch", "ffn_act", T::choice, false, "", 0, {"swiglu", "gelu"}},
              {"arch", "embeddings", T::choice, false, "", 0, {"untied", "tied"}},
              {"arch", "experts", T::count, false, "routed experts", 1e5},
              {"arch", "experts_per_token", T::count, false, "routed experts per token", 1024},
              {"arch", "shared_experts", T::nonneg_count, false, "shared experts", 64},
              {"arch", "expert_ffn", T::count, false, "expert FFN width", 1e6},
              {"arch", "mtp_layers", T::nonneg_count, false, "MTP modules", 16},
              {"training", "batch_tokens", T::count, false, "tokens per global batch", 1e10},
              {"training", "seq", T::count, false, "tokens per training sequence", 1e7},
              {"arch", "attn_gate", T::nonneg_count, false, "1 = output gate on the query projection", 1},
              {"arch", "index_heads", T::count, false, "sparse_mla indexer heads", 1024},
              {"arch", "index_head_dim", T::count, false, "sparse_mla indexer head dim", 1024},
              {"arch", "index_topk", T::count, false, "tokens sparse_mla attends to", 1e7},
              {"arch", "window", T::count, false, "tokens a sliding layer attends to", 1e7},
              {"arch", "linear_key_heads", T::count, false, "linear-attention key heads", 1024},
              {"arch", "linear_value_heads", T::count, false, "linear-attention value heads", 1024},
              {"arch", "linear_key_dim", T::count, false, "per head", 1024},
              {"arch", "linear_value_dim", T::count, false, "per head", 1024},
              {"arch", "linear_conv", T::count, false, "causal conv kernel width", 64},
              {"published", "total_params_b", T::positive, true, "billion parameters", 1e5},
              {"published", "active_params_b", T::positive, true, "billion parameters", 1e5},
          }};
}

int as_int(const Record& r, const std::string& k) {
  auto it = r.numbers.find(k);
  return it == r.numbers.end() ? 0 : static_cast<int>(it->second.value);
}

// Fields each attention kind needs.
void need_kind(const Record& r, Attention k, const std::string& name,
               const std::function<void(const char*, const char*)>& need) {
  const std::string why = "attention '" + name + "'";
  auto req = [&](std::initializer_list<const char*> keys) {
    for (auto key : keys) need(key, why.c_str());
  };
  switch (k) {
    case Attention::gqa: req({"kv_heads", "head_dim"}); break;
    case Attention::sliding: req({"kv_heads", "head_dim", "window"}); break;
    case Attention::mla: req({"kv_lora_rank", "qk_nope_dim", "qk_rope_dim", "v_head_dim"}); break;
    case Attention::sparse_mla:
      req({"kv_lora_rank", "qk_nope_dim", "qk_rope_dim", "v_head_dim", "q_lora_rank", "index_heads", "index_head_dim",
           "index_topk"});
      break;
    case Attention::linear:
      req({"linear_key_heads", "linear_value_heads", "linear_key_dim", "linear_value_dim", "linear_conv"});
      break;
  }
  (void)r;
}

void check_model(const Record& r, const std::vector<LayerGroup>& groups, const std::vector<std::string>& group_kinds) {
  auto fail = [&](const std::string& key, const std::string& msg) {
    const std::string path = "arch." + key;
    const int line = r.numbers.count(path) ? r.numbers.at(path).line : r.text_line.at("arch.attention");
    throw InputError(r.file, line, path, msg);
  };
  auto need = [&](const char* key, const char* why) {
    if (!r.has(std::string("arch.") + key)) fail(key, std::string("missing (required by ") + why + ")");
  };
  Attention main{};
  parse_attention(r.str("arch.attention"), main);
  need_kind(r, main, r.str("arch.attention"), need);
  for (size_t i = 0; i < groups.size(); ++i) need_kind(r, groups[i].attention, group_kinds[i], need);
  if (r.has("arch.kv_heads") && as_int(r, "arch.heads") % as_int(r, "arch.kv_heads") != 0)
    fail("kv_heads", "must divide heads");
  const int layers = as_int(r, "arch.layers");
  if (r.has("arch.experts")) {
    for (auto k : {"experts_per_token", "expert_ffn"}) need(k, "experts");
    if (as_int(r, "arch.experts_per_token") > as_int(r, "arch.experts"))
      fail("experts_per_token", "must not exceed experts");
    if (as_int(r, "arch.dense_layers") > layers) fail("dense_layers", "must not exceed layers");
    if (as_int(r, "arch.dense_layers") > 0) need("ffn", "dense_layers > 0");
  } else {
    need("ffn", "a dense model (no experts)");
    for (auto k : {"experts_per_token", "shared_experts", "expert_ffn"})
      if (r.has(std::string("arch.") + k)) fail(k, "given without 'experts'");
  }
}
}  // namespace

Model ModelDb::model(const std::string& id) const {
  auto it = records.find(id);
  if (it == records.end()) {
    std::string known;
    std::vector<std::string> ids;
    for (auto& [k, v] : records) {
      known += (known.empty() ? "" : ", ") + k;
      ids.push_back(k);
    }
    const std::string hint = closest(id, ids);
    throw InputError("unknown model '" + id + "'" + (hint.empty() ? "" : ": did you mean '" + hint + "'?") + " (known: " +
                     (known.empty() ? "none" : known) + ")");
  }
  const Record& r = it->second;
  Model m;
  m.id = r.id;
  m.name = r.str("name");
  parse_attention(r.str("arch.attention"), m.attention);
  m.layers = as_int(r, "arch.layers");
  m.hidden = as_int(r, "arch.hidden");
  m.vocab = as_int(r, "arch.vocab");
  m.heads = as_int(r, "arch.heads");
  m.kv_heads = as_int(r, "arch.kv_heads");
  m.head_dim = as_int(r, "arch.head_dim");
  m.q_lora_rank = as_int(r, "arch.q_lora_rank");
  m.kv_lora_rank = as_int(r, "arch.kv_lora_rank");
  m.qk_nope_dim = as_int(r, "arch.qk_nope_dim");
  m.qk_rope_dim = as_int(r, "arch.qk_rope_dim");
  m.v_head_dim = as_int(r, "arch.v_head_dim");
  m.ffn = as_int(r, "arch.ffn");
  m.ffn_gated = r.str("arch.ffn_act") != "gelu";
  m.tied_embeddings = r.str("arch.embeddings") == "tied";
  if (r.has("training.batch_tokens")) m.train_batch_tokens = r.numbers.at("training.batch_tokens").value;
  m.train_seq = as_int(r, "training.seq");
  m.experts = as_int(r, "arch.experts");
  m.experts_per_token = as_int(r, "arch.experts_per_token");
  m.shared_experts = as_int(r, "arch.shared_experts");
  m.expert_ffn = as_int(r, "arch.expert_ffn");
  m.mtp_layers = as_int(r, "arch.mtp_layers");
  m.attn_gate = as_int(r, "arch.attn_gate");
  m.index_heads = as_int(r, "arch.index_heads");
  m.index_head_dim = as_int(r, "arch.index_head_dim");
  m.index_topk = as_int(r, "arch.index_topk");
  m.window = as_int(r, "arch.window");
  m.linear_key_heads = as_int(r, "arch.linear_key_heads");
  m.linear_value_heads = as_int(r, "arch.linear_value_heads");
  m.linear_key_dim = as_int(r, "arch.linear_key_dim");
  m.linear_value_dim = as_int(r, "arch.linear_value_dim");
  m.linear_conv = as_int(r, "arch.linear_conv");
  m.dense_layers = m.moe() ? as_int(r, "arch.dense_layers") : m.layers;
  if (auto g = layer_groups.find(id); g != layer_groups.end()) {
    m.n_groups = 0;
    m.dense_layers = 0;
    for (const LayerGroup& x : g->second) {
      m.groups[m.n_groups++] = x;
      if (x.ffn == Ffn::dense) m.dense_layers += x.count;
    }
  } else {
    default_layer_groups(m);
  }
  const Number& t = r.numbers.at("published.total_params_b");
  const Number& a = r.numbers.at("published.active_params_b");
  m.published_total_b = t.value, m.published_total_low_b = t.low, m.published_total_high_b = t.high;
  m.published_active_b = a.value, m.published_active_low_b = a.low, m.published_active_high_b = a.high;
  return m;
}

ModelDb load_models(const std::string& dir) {
  ModelDb db;
  db.dir = dir;
  const fs::path folder = fs::path(dir) / "models";
  if (!fs::is_directory(folder)) throw InputError(folder.string() + ": not a models directory");
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(folder))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  static const io::FileSchema schema = model_schema();
  for (auto& path : files) {
    const std::string file = path.lexically_normal().string();
    toml::table root = io::parse_toml_file(file);
    std::vector<LayerGroup> groups;
    std::vector<std::string> kinds;
    const int groups_line = root.get("layer_groups") ? io::line_of(*root.get("layer_groups")) : 0;
    if (const toml::node* lg = root.get("layer_groups")) {
      const toml::array* arr = lg->as_array();
      if (!arr || arr->empty() || !arr->is_array_of_tables())
        throw InputError(file, groups_line, "layer_groups", "must be a non-empty list of [[layer_groups]] tables");
      if (arr->size() > static_cast<size_t>(kMaxLayerGroups))
        throw InputError(file, groups_line, "layer_groups",
                         "at most " + std::to_string(kMaxLayerGroups) + " groups (got " + std::to_string(arr->size()) + ")");
      for (size_t i = 0; i < arr->size(); ++i) {
        const toml::table& t = *arr->get(i)->as_table();
        io::StrictReader rd{file, t, "layer_groups[" + std::to_string(i) + "]", {}};
        LayerGroup g;
        g.count = rd.integer("count", 0);
        if (g.count == 0) throw InputError(file, io::line_of(t), rd.field("count"), "missing (required)");
        const std::string a = rd.str("attention");
        if (!parse_attention(a, g.attention))
          throw InputError(file, io::line_of(*t.get("attention")), rd.field("attention"),
                           "unknown attention kind '" + a + "' (gqa | mha | mla | sparse_mla | sliding | linear)");
        const std::string f = rd.str("ffn");
        if (f == "dense") g.ffn = Ffn::dense;
        else if (f == "moe") g.ffn = Ffn::moe;
        else throw InputError(file, io::line_of(*t.get("ffn")), rd.field("ffn"), "unknown FFN kind '" + f + "' (dense | moe)");
        rd.done();
        groups.push_back(g);
        kinds.push_back(a);
      }
      root.erase("layer_groups");
    }
    Record r = io::read_record(root, file, schema);
    if (r.id != path.stem().string())
      throw InputError(file, r.id_line, "id", "'" + r.id + "' does not match the file name '" +
                                                   path.filename().string() + "'");
    check_model(r, groups, kinds);
    if (!groups.empty()) {
      // The groups must cover the layers exactly; MoE groups need experts, and dense_layers (when
      // given) must equal the dense groups.
      long sum = 0, dense = 0;
      for (auto& g : groups) {
        sum += g.count;
        if (g.ffn == Ffn::dense) dense += g.count;
        if (g.ffn == Ffn::moe && !r.has("arch.experts"))
          throw InputError(file, groups_line, "layer_groups", "an 'moe' group needs arch.experts");
      }
      const int layers = as_int(r, "arch.layers");
      if (sum != layers)
        throw InputError(file, groups_line, "layer_groups",
                         "counts sum to " + std::to_string(sum) + ", not arch.layers = " + std::to_string(layers));
      if (r.has("arch.dense_layers") && dense != as_int(r, "arch.dense_layers"))
        throw InputError(file, r.numbers.at("arch.dense_layers").line, "arch.dense_layers",
                         "is " + std::to_string(as_int(r, "arch.dense_layers")) + " but the dense layer groups hold " +
                             std::to_string(dense));
      db.layer_groups.emplace(r.id, groups);
    }
    db.records.emplace(r.id, std::move(r));
  }
  return db;
}

std::string default_configs_dir(const char* argv0) {
  if (const char* env = std::getenv("PODPERF_CONFIGS"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec && argv0) exe = fs::absolute(argv0, ec);
  for (const char* rel : {"../configs", "../share/podperf/configs", "configs"}) {
    fs::path p = (exe.parent_path() / rel).lexically_normal();
    if (fs::is_directory(p / "models")) return p.string();
  }
  return std::string(PODPERF_SOURCE_DIR) + "/configs";
}

}  // namespace podperf
