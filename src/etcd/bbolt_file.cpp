// Reads an etcd snapshot's bbolt file page by page. The layout is bbolt's (page.go, the meta struct, bucket.go); what
// is counted and hashed is etcd 3.4's `snapshot status`; the structural checks follow bbolt's tx.Check. See
// bbolt_file.h.
#include "etcd/bbolt_file.h"

#include <unistd.h>

#include <algorithm>
#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

namespace dr {

namespace {

constexpr std::uint32_t kMagic = 0xED0CDAED;
constexpr std::uint32_t kVersion = 2;
constexpr std::uint64_t kHeaderSize = 16;             // page header {id u64, flags u16, count u16, overflow u32}
constexpr std::uint64_t kElementSize = 16;            // branch {pos, ksize, pgid u64}; leaf {flags, pos, ksize, vsize}
constexpr std::uint64_t kBucketHeaderSize = 16;       // {root pgid u64, sequence u64}; root 0: an inline page follows
constexpr std::uint64_t kMetaEnd = kHeaderSize + 64;  // the meta struct, checksum included
constexpr std::uint16_t kBranchPage = 0x01, kLeafPage = 0x02, kFreelistPage = 0x10;
constexpr std::uint64_t kBucketEntry = 0x01;
constexpr std::uint64_t kNoFreelist = ~std::uint64_t{0};  // meta.freelist when bbolt did not persist a freelist
constexpr std::uint64_t kMaxKeySize = 32768;              // bbolt's MaxKeySize
constexpr std::uint32_t kMaxPageSize = 16 << 20;          // the largest page size bbolt probes for
// A page's first kWindow bytes are held in memory. 16 + 65535 * 16 = 1 MiB, so every element array fits and only the
// key/value bytes of a longer (overflow) page are read on demand, kStreamChunk at a time.
constexpr std::uint64_t kWindow = 1 << 20;
constexpr std::uint64_t kStreamChunk = 64 << 10;
// A bbolt tree over a 1 GiB file is 4 or 5 levels deep; even counting nested buckets, 32 is beyond any real file.
constexpr int kMaxDepth = 32;

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

// bbolt writes its structs in host byte order, and etcd runs on little-endian hosts; etcd's own keys and numbers
// are big-endian. Callers check the bounds.
std::uint64_t load(std::string_view bytes, std::uint64_t offset, int width, bool big_endian = false) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[offset + (big_endian ? i : width - 1 - i)]);
  }
  return value;
}

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325;
  for (char c : bytes) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  return hash;
}

// Keys in messages: printable ones quoted, binary ones (etcd's revisions) in hex, long ones cut.
std::string describeKey(std::string_view key) {
  const char* more = key.size() > 32 ? "..." : "";
  if (std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return fmt::format("\"{}{}\"", key.substr(0, 32), more);
  }
  std::string hex = "0x";
  for (char c : key.substr(0, 32)) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return hex + more;
}

struct Meta {
  std::uint64_t index = 0;  // meta page 0 or 1
  std::uint64_t page_size = 0, root = 0, freelist = 0, pgid = 0, txid = 0;
};

// bbolt's Meta.Validate (magic, version, FNV-1a checksum of the fields before it). The error is the reason alone.
Result<Meta> parseMeta(std::string_view page, std::uint64_t index) {
  const auto magic = load(page, 16, 4), version = load(page, 20, 4);
  if (magic != kMagic) return fail("magic {:#010x}, not bbolt's {:#010x}", magic, kMagic);
  if (version != kVersion) return fail("format version {}, not {}", version, kVersion);
  if (fnv1a64(page.substr(16, 56)) != load(page, 72, 8)) return fail("checksum mismatch (torn or damaged meta page)");
  const Meta meta{index, load(page, 24, 4), load(page, 32, 8), load(page, 48, 8), load(page, 56, 8), load(page, 64, 8)};
  const auto size = meta.page_size;
  if (size < 512 || size > kMaxPageSize || (size & (size - 1)) != 0) return fail("absurd page size {}", size);
  return meta;
}

// A tree, freelist or inline page. `head` holds its first bytes (see kWindow); the rest stays in the file.
struct Page {
  std::uint64_t id = 0;  // for an inline bucket: the page that holds it
  bool inline_bucket = false;
  int depth = 0;
  std::uint64_t flags = 0, count = 0;
  std::uint64_t span = 0;  // (overflow + 1) * page size, or an inline page's length
  std::string head;
};

// A leaf entry. `key` is valid until the next entry of the page is read.
struct Entry {
  std::string_view key;
  std::uint64_t value_pos = 0, value_size = 0;  // the value's place within the page
  bool is_bucket = false;
};

class BoltReader {
 public:
  BoltReader(int fd, std::uint64_t db_size, std::string_view source, bool with_hash)
      : fd_(fd), db_size_(db_size), source_(source), with_hash_(with_hash) {}

  Result<BoltDbSummary> read() {
    auto meta = chooseMeta();
    if (!meta) return meta.error();
    meta_ = *meta;
    if (meta_.pgid > db_size_ / meta_.page_size) {
      return fail("{}: truncated: meta page {} (txid {}) says {} pages of {} bytes ({} bytes), the file has {}",
                  source_, meta_.index, meta_.txid, meta_.pgid, meta_.page_size, meta_.pgid * meta_.page_size,
                  db_size_);
    }
    if (meta_.pgid < 3) return pageError(meta_.index, "high-water mark {} leaves no data pages", meta_.pgid);
    summary_.page_size = static_cast<std::uint32_t>(meta_.page_size);
    summary_.txid = meta_.txid;
    summary_.high_water_pages = meta_.pgid;
    reachable_.assign(meta_.pgid, false);
    freed_.assign(meta_.pgid, false);
    reachable_[0] = reachable_[1] = true;
    if (meta_.freelist != kNoFreelist) {
      if (auto status = readFreelist(); !status) return status.error();
    }
    std::string prev;
    auto status = walkTree(meta_.root, meta_.index, 1, {}, {}, prev,
                           [this](const Page& page, const Entry& entry) { return visitTopLevel(page, entry); });
    if (!status) return status.error();
    // Without a persisted freelist (etcd 3.4 keeps none) bbolt rebuilds it from the unreached pages: nothing to check.
    for (std::uint64_t id = 2; meta_.freelist != kNoFreelist && id < meta_.pgid; ++id) {
      if (!reachable_[id] && !freed_[id]) return pageError(id, "neither reached from the tree nor on the freelist");
    }
    if (with_hash_) summary_.hash = crc_.checksum();
    return summary_;
  }

 private:
  using Visit = std::function<Status(const Page&, const Entry&)>;
  using Sink = std::function<Status(std::string_view)>;

  // Reads bytes of page `id`; an error names it.
  Status readAt(char* out, std::uint64_t size, std::uint64_t offset, std::uint64_t id) const {
    while (size > 0) {
      const ssize_t n = ::pread(fd_, out, size, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return pageError(id, "read at offset {}: {}", offset, std::strerror(errno));
      if (n == 0) return pageError(id, "end of file at offset {}, inside the {}-byte database", offset, db_size_);
      out += n;
      size -= static_cast<std::uint64_t>(n);
      offset += static_cast<std::uint64_t>(n);
    }
    return {};
  }

  Result<Meta> readMeta(std::uint64_t offset, std::uint64_t index) const {
    std::string buffer(kMetaEnd, '\0');
    if (offset + kMetaEnd > db_size_) return fail("the file ends at {} bytes", db_size_);
    if (::pread(fd_, buffer.data(), kMetaEnd, static_cast<off_t>(offset)) != static_cast<ssize_t>(kMetaEnd)) {
      return fail("cannot read {} bytes at offset {}: {}", kMetaEnd, offset, std::strerror(errno));
    }
    return parseMeta(buffer, index);
  }

  Result<Meta> chooseMeta() const {
    auto meta0 = readMeta(0, 0);
    // Meta page 1 starts one page in. Without a valid meta 0 the page size is unknown: probe each size bbolt allows,
    // as its getPageSizeFromSecondMeta does.
    Result<Meta> meta1 = fail("none found at any page size from 1 KiB to 16 MiB");
    if (meta0) {
      meta1 = readMeta(meta0->page_size, 1);
      if (meta1 && meta1->page_size != meta0->page_size) meta1 = fail("page size {} differs", meta1->page_size);
    }
    for (std::uint64_t size = 1024; !meta0 && size <= kMaxPageSize && size + kMetaEnd <= db_size_; size <<= 1) {
      if (auto candidate = readMeta(size, 1); candidate && candidate->page_size == size) {
        meta1 = std::move(candidate);
        break;
      }
    }
    if (!meta0 && !meta1) {
      return fail("{}: not a bbolt database: meta page 0: {}; meta page 1: {}", source_, meta0.error().message,
                  meta1.error().message);
    }
    // bbolt's DB.meta(): the valid meta with the higher txid; the other is the previous commit, kept for torn writes.
    if (meta0 && (!meta1 || meta0->txid >= meta1->txid)) return meta0;
    return meta1;
  }

  // Reads a tree or freelist page that page `from` refers to, and marks it (with its overflow pages) reached.
  Result<Page> readPage(std::uint64_t id, std::uint64_t from, int depth) {
    const std::uint64_t hwm = meta_.pgid, page_size = meta_.page_size;
    if (id < 2 || id >= hwm) return pageError(from, "refers to page {}, outside the data pages 2..{}", id, hwm - 1);
    if (depth > kMaxDepth) return pageError(from, "refers to page {} at depth {}: no bbolt tree is so deep", id, depth);
    Page page{.id = id, .depth = depth, .head = std::string(page_size, '\0')};
    if (auto status = readAt(page.head.data(), page_size, id * page_size, id); !status) return status.error();
    if (const auto header_id = load(page.head, 0, 8); header_id != id) {
      return pageError(id, "its header says page {}: a page id beyond the file or a damaged page", header_id);
    }
    page.flags = load(page.head, 8, 2);
    page.count = load(page.head, 10, 2);
    const std::uint64_t overflow = load(page.head, 12, 4);
    if (overflow >= hwm - id) return pageError(id, "{} overflow pages run past the high-water mark {}", overflow, hwm);
    for (std::uint64_t i = id; i <= id + overflow; ++i) {
      if (reachable_[i]) return pageError(i, "reached a second time (from page {}): a cycle or a shared page", from);
      if (freed_[i]) return pageError(i, "in use (reached from page {}) but also on the freelist", from);
      reachable_[i] = true;
    }
    page.span = (overflow + 1) * page_size;
    if (const auto held = std::min(page.span, std::max(kWindow, page_size)); held > page_size) {
      page.head.resize(held);
      if (auto status = readAt(page.head.data() + page_size, held - page_size, (id + 1) * page_size, id); !status) {
        return status.error();
      }
    }
    return page;
  }

  Status readFreelist() {
    auto page = readPage(meta_.freelist, meta_.index, 1);
    if (!page) return page.error();
    if (page->flags != kFreelistPage) return pageError(*page, "flags {:#x}, not a freelist page", page->flags);
    // A count of 0xFFFF means the real count did not fit in 16 bits: it is stored in the first id slot.
    const std::uint64_t first = page->count == 0xFFFF ? 1 : 0;
    const std::uint64_t count = first ? load(page->head, kHeaderSize, 8) : page->count;
    if (count > (page->span - kHeaderSize) / 8 - first) {
      return pageError(*page, "lists {} free pages, more than its {} bytes can hold", count, page->span);
    }
    // Offsets and chunk sizes are multiples of 8, so every piece streamed holds whole ids.
    return stream(*page, kHeaderSize + first * 8, count * 8, [&](std::string_view ids) -> Status {
      for (std::uint64_t offset = 0; offset + 8 <= ids.size(); offset += 8) {
        const auto id = load(ids, offset, 8);
        if (id < 2 || id >= meta_.pgid) return pageError(*page, "lists page {}, outside 2..{}", id, meta_.pgid - 1);
        if (freed_[id] || reachable_[id]) return pageError(*page, "lists page {} twice or while it is in use", id);
        freed_[id] = true;
      }
      return {};
    });
  }

  // Feeds `sink` the bytes [pos, pos + size) of a page: from `head`, then from the file. The caller checked the span.
  Status stream(const Page& page, std::uint64_t pos, std::uint64_t size, const Sink& sink) const {
    if (pos < page.head.size()) {
      const auto n = std::min(size, page.head.size() - pos);
      if (auto status = sink(std::string_view(page.head).substr(pos, n)); !status) return status;
      pos += n;
      size -= n;
    }
    std::string chunk;  // only file pages get here: an inline page is wholly in `head`
    for (std::uint64_t n = 0; size > 0; pos += n, size -= n) {
      n = std::min(size, kStreamChunk);
      chunk.resize(n);
      auto status = readAt(chunk.data(), n, page.id * meta_.page_size + pos, page.id);
      if (!status || !(status = sink(chunk))) return status;
    }
    return {};
  }

  Result<std::string_view> bytesAt(const Page& page, std::uint64_t pos, std::uint64_t size, std::string& scratch) {
    if (pos + size <= page.head.size()) return std::string_view(page.head).substr(pos, size);
    scratch.clear();
    auto status = stream(page, pos, size, [&](std::string_view piece) -> Status {
      scratch.append(piece);
      return {};
    });
    if (!status) return status.error();
    return std::string_view(scratch);
  }

  // Element `index`'s key. `pos` is relative to the element, as in bbolt; key and value must lie within the page.
  Result<std::string_view> keyAt(const Page& page, std::uint64_t index, std::uint64_t pos, std::uint64_t ksize,
                                 std::uint64_t vsize, std::string& scratch) {
    const std::uint64_t element = kHeaderSize + index * kElementSize;
    if (ksize == 0 || ksize > kMaxKeySize) return pageError(page, "element {}: key size {}", index, ksize);
    if (element + pos + ksize + vsize > page.span) {
      return pageError(page, "element {}: key ({} bytes) and value ({} bytes) at offset {} run past the page end ({})",
                       index, ksize, vsize, element + pos, page.span);
    }
    return bytesAt(page, element + pos, ksize, scratch);
  }

  // Within a bucket keys are unique and ascending, and a page's keys lie in the range its parent's branch keys give
  // (`below` empty: no upper bound; bbolt keys are never empty). A flipped byte in a key shows here.
  Status checkOrder(const Page& page, std::uint64_t index, std::string_view key, std::string_view after, bool or_equal,
                    std::string_view below) const {
    if (or_equal ? key < after : key <= after) {
      return pageError(page, "element {}: key {} out of order (after {})", index, describeKey(key), describeKey(after));
    }
    if (below.empty() || key < below) return {};
    return pageError(page, "element {}: key {} not below {}, its parent's bound", index, describeKey(key),
                     describeKey(below));
  }

  Status walkTree(std::uint64_t id, std::uint64_t from, int depth, const std::string& low, const std::string& high,
                  std::string& prev, const Visit& visit) {
    auto page = readPage(id, from, depth);
    if (!page) return page.error();
    if (page->flags != kBranchPage && page->flags != kLeafPage) {
      return pageError(*page, "flags {:#x} where a branch or leaf page was expected", page->flags);
    }
    if (page->flags == kLeafPage) return walkLeaf(*page, low, high, prev, visit);
    if (page->count == 0 || kHeaderSize + page->count * kElementSize > page->span) {
      return pageError(*page, "{} branch elements in {} bytes", page->count, page->span);
    }
    std::string scratch, key, next;
    auto fetch = [&](std::uint64_t i, std::string& out, std::string_view after, bool or_equal) -> Status {
      const std::uint64_t element = kHeaderSize + i * kElementSize;
      auto bytes = keyAt(*page, i, load(page->head, element, 4), load(page->head, element + 4, 4), 0, scratch);
      if (!bytes) return bytes.error();
      out.assign(*bytes);
      return checkOrder(*page, i, out, after, or_equal, high);
    };
    if (auto status = fetch(0, key, low, true); !status) return status;
    for (std::uint64_t i = 0; i < page->count; ++i) {
      if (i + 1 == page->count) {
        next = high;
      } else if (auto status = fetch(i + 1, next, key, false); !status) {
        return status;
      }
      const auto child = load(page->head, kHeaderSize + i * kElementSize + 8, 8);
      if (auto status = walkTree(child, id, depth + 1, key, next, prev, visit); !status) return status;
      key.swap(next);
    }
    return {};
  }

  Status walkLeaf(const Page& page, const std::string& low, const std::string& high, std::string& prev,
                  const Visit& visit) {
    if (kHeaderSize + page.count * kElementSize > page.span) {
      return pageError(page, "{} leaf elements do not fit in its {} bytes", page.count, page.span);
    }
    std::string scratch;
    for (std::uint64_t i = 0; i < page.count; ++i) {
      const std::uint64_t element = kHeaderSize + i * kElementSize;
      const auto flags = load(page.head, element, 4), pos = load(page.head, element + 4, 4);
      const auto ksize = load(page.head, element + 8, 4), vsize = load(page.head, element + 12, 4);
      if ((flags & ~kBucketEntry) != 0) return pageError(page, "element {}: leaf flags {:#x}", i, flags);
      auto key = keyAt(page, i, pos, ksize, vsize, scratch);
      if (!key) return key.error();
      if (auto status = checkOrder(page, i, *key, prev, false, {}); !status) return status;
      if (auto status = checkOrder(page, i, *key, low, true, high); !status) return status;
      prev.assign(*key);
      if (auto status = visit(page, {*key, element + pos + ksize, vsize, (flags & kBucketEntry) != 0}); !status) {
        return status;
      }
    }
    return {};
  }

  // A bucket's value is its header {root, sequence}; with root 0 the bucket is inline and its leaf page follows the
  // header (bbolt inlines only buckets under a quarter page, so such a value never exceeds a page).
  Status walkBucket(const Page& holder, const Entry& entry, const Visit& visit) {
    if (holder.depth >= kMaxDepth) return pageError(holder, "buckets nested deeper than {} levels", kMaxDepth);
    if (entry.value_size < kBucketHeaderSize || entry.value_size > meta_.page_size) {
      return pageError(holder, "bucket {}: {} bytes are no bucket header", describeKey(entry.key), entry.value_size);
    }
    std::string scratch, prev;
    auto value = bytesAt(holder, entry.value_pos, entry.value_size, scratch);
    if (!value) return value.error();
    if (const auto root = load(*value, 0, 8); root != 0) {
      return walkTree(root, holder.id, holder.depth + 1, {}, {}, prev, visit);
    }
    Page page{.id = holder.id,
              .inline_bucket = true,
              .depth = holder.depth + 1,
              .head = std::string(value->substr(kBucketHeaderSize))};
    page.span = page.head.size();
    if (page.span < kHeaderSize || load(page.head, 8, 2) != kLeafPage) {
      return pageError(page, "{} bytes that are no leaf page", page.span);
    }
    page.flags = kLeafPage;
    page.count = load(page.head, 10, 2);
    return walkLeaf(page, {}, {}, prev, visit);
  }

  // As etcdctl snapshot status: every top-level entry must be a bucket; the hash takes its name, then each entry's
  // key and value (nothing for a nested bucket's value); every entry counts; the revision is the last key's of "key".
  Status visitTopLevel(const Page& page, const Entry& bucket) {
    if (!bucket.is_bucket) {
      return pageError(page, "top-level key {} is not a bucket (etcdctl: cannot get hash of bucket)",
                       describeKey(bucket.key));
    }
    if (with_hash_) crc_.process_bytes(bucket.key.data(), bucket.key.size());
    const std::string name(bucket.key);
    return walkBucket(page, bucket, [&](const Page& holder, const Entry& entry) -> Status {
      ++summary_.total_keys;
      if (with_hash_) crc_.process_bytes(entry.key.data(), entry.key.size());
      if (entry.is_bucket) return checkNestedBucket(holder, entry);
      // mvcc's bytesToRev: 8-byte big-endian main revision, '_', 8-byte sub revision; etcdctl panics on less.
      if (name == "key" && entry.key.size() < 17) {
        return pageError(holder, "bucket \"key\": key {} is no revision", describeKey(entry.key));
      }
      if (name == "key") summary_.revision = static_cast<std::int64_t>(load(entry.key, 0, 8, true));
      const bool version = name == "cluster" && entry.key == "clusterVersion" && entry.value_size <= 64;
      const bool index = name == "meta" && entry.key == "consistent_index" && entry.value_size == 8;
      if (version || index) {
        std::string scratch;
        auto value = bytesAt(holder, entry.value_pos, entry.value_size, scratch);
        if (!value) return value.error();
        if (version) summary_.cluster_version = std::string(*value);
        if (index) summary_.consistent_index = load(*value, 0, 8, true);
      }
      // Without the hash a value's bytes need not be read: its bounds were checked with its page.
      if (!with_hash_) return {};
      return stream(holder, entry.value_pos, entry.value_size, [this](std::string_view piece) -> Status {
        crc_.process_bytes(piece.data(), piece.size());
        return {};
      });
    });
  }

  // etcd has no nested buckets, but a sound file's nested buckets are walked too, so that their pages count as reached.
  Status checkNestedBucket(const Page& holder, const Entry& entry) {
    return walkBucket(holder, entry, [this](const Page& page, const Entry& nested) -> Status {
      return nested.is_bucket ? checkNestedBucket(page, nested) : Status{};
    });
  }

  template <typename... Args>
  Error pageError(std::uint64_t id, fmt::format_string<Args...> format, Args&&... args) const {
    return fail("{}: bbolt page {}: {}", source_, id, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  Error pageError(const Page& page, fmt::format_string<Args...> format, Args&&... args) const {
    return fail("{}: bbolt page {}{}: {}", source_, page.id, page.inline_bucket ? " (inline bucket)" : "",
                fmt::format(format, std::forward<Args>(args)...));
  }

  int fd_;
  std::uint64_t db_size_;
  std::string_view source_;
  bool with_hash_;
  Meta meta_;
  // Every page below the high-water mark must be reached exactly once or be free, as bbolt's tx.Check demands;
  // reaching a page twice is also how a cycle shows. One bit per page: 32 KiB for 1 GiB of 4 KiB pages.
  std::vector<bool> reachable_, freed_;
  BoltDbSummary summary_;
  Crc32c crc_;
};

}  // namespace

Result<BoltDbSummary> readBoltDb(int fd, std::uint64_t db_size, std::string_view source, bool with_hash) {
  return BoltReader(fd, db_size, source, with_hash).read();
}

}  // namespace dr
