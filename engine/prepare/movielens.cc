// MovieLens 100K (u.data, u.item, u.genre), 1M (ratings.dat, movies.dat) and the CSV
// releases 20M, 25M, 32M and latest (ratings.csv, movies.csv, optional tags.csv).

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "engine/common/error.h"
#include "engine/prepare/import_internal.h"

namespace kgrec::import_internal {

namespace {

struct Layout {
  std::string ratings, movies, genres;  // genres: ml-100k only
  std::string separator;                // of the ratings file; empty: CSV files with a header
  std::string tags;                     // CSV releases: tags.csv, when present
  bool csv() const { return separator.empty(); }
};

Layout findLayout(const std::string& dir) {
  namespace fs = std::filesystem;
  auto has = [&](const char* name) { return fs::is_regular_file(fs::path(dir) / name); };
  auto at = [&](const char* name) { return (fs::path(dir) / name).string(); };
  if (has("u.data") && has("u.item")) {
    if (!has("u.genre")) throw ConfigError(fmt::format("{} has u.data and u.item but no u.genre, "
                                                       "which names the genre flags", dir));
    return {at("u.data"), at("u.item"), at("u.genre"), "\t", ""};
  }
  if (has("ratings.dat") && has("movies.dat")) {
    return {at("ratings.dat"), at("movies.dat"), "", "::", ""};
  }
  if (has("ratings.csv") && has("movies.csv")) {
    return {at("ratings.csv"), at("movies.csv"), "", "", has("tags.csv") ? at("tags.csv") : ""};
  }
  throw ConfigError(fmt::format("{} holds neither u.data + u.item (MovieLens 100K), "
                                "ratings.dat + movies.dat (MovieLens 1M) nor ratings.csv + "
                                "movies.csv (MovieLens 20M, 25M, 32M, latest)", dir));
}

std::vector<std::string> readGenreNames(const std::string& path) {
  LineReader reader(path);
  std::vector<std::string> names;
  std::vector<std::string_view> f;
  forEachLine(reader, [&](std::string_view line) {
    splitExact(line, '|', &f);
    if (f.size() != 2) reader.fail("expected 'genre|index'");
    const auto expected = static_cast<std::int64_t>(names.size());
    if (parseInt(reader, f[1], "genre index", 0, kMaxIndex) != expected) {
      reader.fail(fmt::format("genre index {} is out of order, expected {}", f[1], expected));
    }
    names.emplace_back(f[0]);
  });
  return names;
}

// Release year from a title ending in "(1995)", or -1.
int titleYear(std::string_view title) {
  while (!title.empty() && title.back() == ' ') title.remove_suffix(1);
  if (title.size() < 6 || title.back() != ')' || title[title.size() - 6] != '(') return -1;
  int year = 0;
  for (char c : title.substr(title.size() - 5, 4)) {
    if (c < '0' || c > '9') return -1;
    year = year * 10 + (c - '0');
  }
  return year;
}

enum Relation : std::int32_t { kHasGenre, kReleasedIn, kInDecade, kHasTag };

// Adds one movie: the item node, its text "Title. Genre, Genre" and, with `with_kg`, its KG
// triples.
void addMovie(const LineReader& reader, std::string_view id, const std::string& title,
              const std::vector<std::string_view>& genres, bool with_kg, NodeIdSet* ids,
              DatasetBuilder* builder) {
  if (ids->items.find(reader, id) >= 0) reader.fail(fmt::format("movie id {} appears twice", id));
  const NodeRef movie{NodeType::kItem, ids->items.intern(id)};
  auto link = [&](Relation relation, const std::string& kind, const std::string& name) {
    if (!with_kg) return;
    const std::int64_t e = ids->entities.intern(kind + ":" + name);
    builder->setText(NodeType::kEntity, e, name);
    builder->addTriple(movie, relation, {NodeType::kEntity, e});
  };
  std::string text = title;
  for (std::size_t k = 0; k < genres.size(); ++k) {
    text += (k == 0 ? ". " : ", ");
    text += genres[k];
    link(kHasGenre, "genre", std::string(genres[k]));
  }
  builder->setText(NodeType::kItem, movie.index, std::move(text));
  if (const int year = titleYear(title); year >= 0) {
    link(kReleasedIn, "year", std::to_string(year));
    link(kInDecade, "decade", std::to_string(year / 10 * 10) + "s");
  }
}

// ml-100k's "unknown" flag and the CSV releases' "(no genres listed)" mark a missing genre,
// not a genre; ml-1m has no such mark.
bool isRealGenre(std::string_view genre) {
  return !genre.empty() && genre != "unknown" && genre != "(no genres listed)";
}

// The CSV releases are UTF-8; a text that is not is read as Latin-1, as the older releases.
std::string utf8Text(std::string_view text) {
  return isValidUtf8(text) ? std::string(text) : latin1ToUtf8(text);
}

// Index of the header column `name`; InputError on line 1 when there is none.
std::size_t columnOf(const CsvReader& reader, const char* name) {
  const auto& header = reader.header();
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) {
    throw InputError(reader.path(), 1, fmt::format("the header has no '{}' column", name));
  }
  return it - header.begin();
}

// movies.csv: "movieId,title,genres" with genres "Action|Comedy"; titles may be quoted.
void readCsvMovies(const Layout& layout, bool with_kg, NodeIdSet* ids, DatasetBuilder* builder) {
  CsvReader reader(layout.movies, ',');
  const std::size_t id = columnOf(reader, "movieId"), title = columnOf(reader, "title"),
                    genre = columnOf(reader, "genres");
  std::vector<std::string> f;
  std::vector<std::string_view> genres;
  while (reader.next(&f)) {
    if (f[id].empty()) reader.fail("empty movie id");
    splitExact(f[genre], '|', &genres);
    genres.erase(std::remove_if(genres.begin(), genres.end(),
                                [](std::string_view g) { return !isRealGenre(g); }),
                 genres.end());
    addMovie(reader.lines(), f[id], utf8Text(f[title]), genres, with_kg, ids, builder);
  }
}

// tags.csv: "userId,movieId,tag,timestamp": movie -has_tag-> tag (lower case, trimmed).
void readCsvTags(const Layout& layout, const std::string& movies_name, NodeIdSet* ids,
                 DatasetBuilder* builder) {
  CsvReader reader(layout.tags, ',');
  const std::size_t movie = columnOf(reader, "movieId"), tag = columnOf(reader, "tag");
  KGREC_ASSERT(builder->relation("has_tag") == kHasTag);
  std::vector<std::string> f;
  while (reader.next(&f)) {
    const std::int64_t item = ids->items.find(reader.lines(), f[movie]);
    if (item < 0) reader.fail(fmt::format("movie id '{}' is not in {}", f[movie], movies_name));
    const std::string text = utf8Text(f[tag]);
    const std::size_t lo = text.find_first_not_of(' '), hi = text.find_last_not_of(' ');
    if (lo == std::string::npos) continue;
    std::string key = "tag:" + text.substr(lo, hi - lo + 1);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool known = ids->entities.find(reader.lines(), key) >= 0;
    const std::int64_t e = ids->entities.intern(key);
    if (!known) builder->setText(NodeType::kEntity, e, text.substr(lo, hi - lo + 1));
    builder->addTriple({NodeType::kItem, item}, kHasTag, {NodeType::kEntity, e});
  }
}

void readMovies(const Layout& layout, bool with_kg, NodeIdSet* ids, DatasetBuilder* builder) {
  if (layout.csv()) {
    readCsvMovies(layout, with_kg, ids, builder);
    return;
  }
  const std::vector<std::string> genre_names =
      layout.genres.empty() ? std::vector<std::string>{} : readGenreNames(layout.genres);
  LineReader reader(layout.movies);
  std::vector<std::string_view> f, genres;
  forEachLine(reader, [&](std::string_view line) {
    if (layout.genres.empty()) {  // ml-1m: "id::title::Genre1|Genre2"
      splitOn(line, "::", &f);
      if (f.size() != 3) {
        reader.fail(fmt::format("expected 'id::title::genres', found {} field(s)", f.size()));
      }
      splitExact(f[2], '|', &genres);
    } else {  // ml-100k: "id|title|release|video release|url|flag * genres"
      splitExact(line, '|', &f);
      if (f.size() != 5 + genre_names.size()) {
        reader.fail(fmt::format("expected {} '|'-separated fields (5 + {} genre flags), found {}",
                                5 + genre_names.size(), genre_names.size(), f.size()));
      }
      genres.clear();
      for (std::size_t k = 0; k < genre_names.size(); ++k) {
        if (parseInt(reader, f[5 + k], "genre flag", 0, 1) == 1) genres.push_back(genre_names[k]);
      }
    }
    genres.erase(std::remove_if(genres.begin(), genres.end(),
                                [](std::string_view g) { return !isRealGenre(g); }),
                 genres.end());
    if (f[0].empty()) reader.fail("empty movie id");
    addMovie(reader, f[0], latin1ToUtf8(f[1]), genres, with_kg, ids, builder);
  });
}

void readRatings(const Layout& layout, double min_rating, NodeIdSet* ids, InteractionPool* ratings) {
  ratings->source = layout.ratings;
  const std::string movies_name = std::filesystem::path(layout.movies).filename().string();
  if (layout.csv()) {  // "userId,movieId,rating,timestamp"
    CsvReader reader(layout.ratings, ',');
    readDelimitedInteractions(reader,
                              findInteractionColumns(reader, reader.header(),
                                                     "userId,movieId,rating,timestamp"),
                              min_rating, movies_name.c_str(), ids, ratings);
    return;
  }
  ratings->timed = true;
  LineReader reader(layout.ratings);
  std::vector<std::string_view> f;
  forEachLine(reader, [&](std::string_view line) {
    splitOn(line, layout.separator, &f);
    if (f.size() != 4) {
      reader.fail(fmt::format("expected 'user{0}item{0}rating{0}timestamp', found {1} field(s)",
                              layout.separator == "\t" ? "<TAB>" : layout.separator, f.size()));
    }
    const std::int64_t item = ids->items.find(reader, f[1]);
    if (item < 0) reader.fail(fmt::format("movie id '{}' is not in {}", f[1], movies_name));
    if (f[0].empty()) reader.fail("empty user id");
    if (parseDouble(reader, f[2], "rating") < min_rating) return;
    ratings->add(ids->users.intern(f[0]), item, parseTimestamp(reader, f[3]));
  });
}

}  // namespace

void readMovieLens(const ImportOptions& options, NodeIdSet* ids, DatasetBuilder* builder,
                   InteractionPool* ratings) {
  const Layout layout = findLayout(options.movielens_dir);
  // Declared up front so that the relation indices match the Relation enum.
  KGREC_ASSERT(builder->relation("has_genre") == kHasGenre);
  KGREC_ASSERT(builder->relation("released_in") == kReleasedIn);
  KGREC_ASSERT(builder->relation("in_decade") == kInDecade);
  readMovies(layout, options.movielens_kg, ids, builder);
  if (!layout.tags.empty() && options.movielens_kg) {
    readCsvTags(layout, std::filesystem::path(layout.movies).filename().string(), ids, builder);
    builder->setMetadata("source.tags", layout.tags);
  }
  readRatings(layout, options.min_rating, ids, ratings);
  builder->setMetadata("source.movielens_dir", options.movielens_dir);
  builder->setMetadata("source.ratings", layout.ratings);
  builder->setMetadata("source.movies", layout.movies);
  if (!layout.genres.empty()) builder->setMetadata("source.genres", layout.genres);
}

}  // namespace kgrec::import_internal
