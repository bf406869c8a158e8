<?php
// Escaping for HTML text and attribute values: every string that is not a
// literal of ours goes through h() on its way out.
declare(strict_types=1);

function h(string $s): string
{
    // ENT_SUBSTITUTE: broken UTF-8 (a log line cut mid-character) becomes
    // U+FFFD instead of an empty string.
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

/** A query string link: page.php?k=v&..., values URL-encoded, then escaped. */
function chat_href(string $page, array $query = []): string
{
    $q = http_build_query($query, '', '&', PHP_QUERY_RFC3986);
    return h($q === '' ? $page : "$page?$q");
}
