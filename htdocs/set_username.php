<?php
// The username form under the name of the first version of the pages.
declare(strict_types=1);

require __DIR__ . '/lib/username_form.php';

chat_username_page('set_username.php');
