// MovieLens 100K (u.data, u.item, u.genre) and 1M (ratings.dat, movies.dat).

#include <algorithm>
#include <filesystem>

#include "engine/common/error.h"
#include "engine/prepare/import_internal.h"

namespace kgrec::import_internal {

namespace {

struct Layout {
  std::string ratings, movies, genres;  // genres: ml-100k only
  std::string separator;                // of the ratings file
};

Layout findLayout(const std::string& dir) {
  namespace fs = std::filesystem;
  auto has = [&](const char* name) { return fs::is_regular_file(fs::path(dir) / name); };
  auto at = [&](const char* name) { return (fs::path(dir) / name).string(); };
  if (has("u.data") && has("u.item")) {
    if (!has("u.genre")) throw ConfigError(fmt::format("{} has u.data and u.item but no u.genre, "
                                                       "which names the genre flags", dir));
    return {at("u.data"), at("u.item"), at("u.genre"), "\t"};
  }
  if (has("ratings.dat") && has("movies.dat")) {
    return {at("ratings.dat"), at("movies.dat"), "", "::"};
  }
  throw ConfigError(fmt::format("{} holds neither u.data + u.item (MovieLens 100K) nor "
                                "ratings.dat + movies.dat (MovieLens 1M)", dir));
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

enum Relation : std::int32_t { kHasGenre, kReleasedIn, kInDecade };

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

// ml-100k's "unknown" flag marks a missing genre, not a genre; ml-1m has no such flag.
bool isRealGenre(std::string_view genre) { return !genre.empty() && genre != "unknown"; }

void readMovies(const Layout& layout, bool with_kg, NodeIdSet* ids, DatasetBuilder* builder) {
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

void readRatings(const Layout& layout, double min_rating, NodeIdSet* ids,
                 std::vector<Interaction>* ratings) {
  LineReader reader(layout.ratings);
  std::vector<std::string_view> f;
  forEachLine(reader, [&](std::string_view line) {
    splitOn(line, layout.separator, &f);
    if (f.size() != 4) {
      reader.fail(fmt::format("expected 'user{0}item{0}rating{0}timestamp', found {1} field(s)",
                              layout.separator == "\t" ? "<TAB>" : layout.separator, f.size()));
    }
    const std::int64_t item = ids->items.find(reader, f[1]);
    if (item < 0) {
      reader.fail(fmt::format("movie id '{}' is not in {}", f[1],
                              std::filesystem::path(layout.movies).filename().string()));
    }
    if (f[0].empty()) reader.fail("empty user id");
    if (parseDouble(reader, f[2], "rating") < min_rating) return;
    ratings->push_back({static_cast<std::int32_t>(ids->users.intern(f[0])),
                        static_cast<std::int32_t>(item)});
  });
}

}  // namespace

void readMovieLens(const ImportOptions& options, NodeIdSet* ids, DatasetBuilder* builder,
                   std::vector<Interaction>* ratings) {
  const Layout layout = findLayout(options.movielens_dir);
  // Declared up front so that the relation indices match the Relation enum.
  KGREC_ASSERT(builder->relation("has_genre") == kHasGenre);
  KGREC_ASSERT(builder->relation("released_in") == kReleasedIn);
  KGREC_ASSERT(builder->relation("in_decade") == kInDecade);
  readMovies(layout, options.movielens_kg, ids, builder);
  readRatings(layout, options.min_rating, ids, ratings);
  builder->setMetadata("source.movielens_dir", options.movielens_dir);
  builder->setMetadata("source.ratings", layout.ratings);
  builder->setMetadata("source.movies", layout.movies);
  if (!layout.genres.empty()) builder->setMetadata("source.genres", layout.genres);
}

}  // namespace kgrec::import_internal
